#include "common/rocks_metrics.h"

#include <sys/statvfs.h>

#include <cstdint>
#include <string>

#include "common/process_metrics.h"

namespace switchboard {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

double Property(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, const std::string& name) {
  uint64_t value = 0;
  return db.GetIntProperty(family, name, &value) ? static_cast<double>(value) : 0;
}

// A gauge with one sample per column family.
MetricFamily PerFamily(const Database& db, const char* name, const char* help,
                       const std::string& property) {
  MetricFamily family{name, help, MetricType::Gauge, {}};
  for (rocksdb::ColumnFamilyHandle* handle : db.Families()) {
    prometheus::ClientMetric& sample = family.metric.emplace_back();
    sample.label.push_back({"column_family", handle->GetName()});
    sample.gauge.value = Property(db.db(), handle, property);
  }
  return family;
}

}  // namespace

std::vector<MetricFamily> DatabaseMetrics::Collect() const {
  using Properties = rocksdb::DB::Properties;
  rocksdb::DB& db = db_.db();
  rocksdb::ColumnFamilyHandle* default_family = db.DefaultColumnFamily();
  const auto db_wide = [&](const std::string& property) {
    return Property(db, default_family, property);
  };

  std::vector<MetricFamily> families;
  families.push_back(PerFamily(db_, "switchboard_rocksdb_live_sst_bytes",
                               "Bytes of live SST files, by column family.",
                               Properties::kLiveSstFilesSize));
  families.push_back(PerFamily(db_, "switchboard_rocksdb_memtable_bytes",
                               "Bytes in active and immutable memtables, by column family.",
                               Properties::kCurSizeAllMemTables));
  families.push_back(PerFamily(db_, "switchboard_rocksdb_estimated_keys",
                               "Estimated number of keys, by column family.",
                               Properties::kEstimateNumKeys));
  families.push_back(PerFamily(db_, "switchboard_rocksdb_pending_compaction_bytes",
                               "Estimated bytes compaction must rewrite to settle, by column "
                               "family. Growth means compaction is falling behind.",
                               Properties::kEstimatePendingCompactionBytes));
  families.push_back(SingleSample("switchboard_rocksdb_running_compactions",
                                  "Compactions running now.", MetricType::Gauge,
                                  db_wide(Properties::kNumRunningCompactions)));
  families.push_back(SingleSample("switchboard_rocksdb_running_flushes", "Flushes running now.",
                                  MetricType::Gauge, db_wide(Properties::kNumRunningFlushes)));
  families.push_back(SingleSample("switchboard_rocksdb_block_cache_bytes",
                                  "Bytes in the shared block cache.", MetricType::Gauge,
                                  db_wide(Properties::kBlockCacheUsage)));
  families.push_back(SingleSample("switchboard_rocksdb_write_delayed",
                                  "1 while RocksDB slows writes down to let compaction catch up.",
                                  MetricType::Gauge,
                                  db_wide(Properties::kActualDelayedWriteRate) > 0 ? 1 : 0));
  families.push_back(SingleSample("switchboard_rocksdb_write_stopped",
                                  "1 while RocksDB stops writes until compaction catches up.",
                                  MetricType::Gauge, db_wide(Properties::kIsWriteStopped)));
  families.push_back(SingleSample("switchboard_rocksdb_background_errors_total",
                                  "Background errors (failed flushes or compactions).",
                                  MetricType::Counter, db_wide(Properties::kBackgroundErrors)));

  const WriteStalls stalls = db_.Stalls();
  MetricFamily stall_counts{"switchboard_rocksdb_write_stalls_total",
                            "Times a column family entered a write stall, by condition: "
                            "delayed or stopped.",
                            MetricType::Counter,
                            {}};
  for (const auto& [condition, count] :
       {std::pair{"delayed", stalls.delayed}, std::pair{"stopped", stalls.stopped}}) {
    prometheus::ClientMetric& sample = stall_counts.metric.emplace_back();
    sample.label.push_back({"condition", condition});
    sample.counter.value = static_cast<double>(count);
  }
  families.push_back(std::move(stall_counts));
  families.push_back(SingleSample("switchboard_rocksdb_write_stall_seconds_total",
                                  "Time during which writes were delayed or stopped.",
                                  MetricType::Counter, stalls.stalled_seconds));

  const StorageHealth storage = db_.storage();
  MetricFamily refused{"switchboard_rocksdb_writes_refused",
                       "1 while the database refuses every write, by reason: no_space (it "
                       "resumes by itself once space is freed), io_error, corruption or other "
                       "(the service exits to reopen it).",
                       MetricType::Gauge,
                       {}};
  for (const char* reason : {"no_space", "io_error", "corruption", "other"}) {
    prometheus::ClientMetric& sample = refused.metric.emplace_back();
    sample.label.push_back({"reason", reason});
    sample.gauge.value = storage.state != StorageState::kWritable && storage.reason == reason;
  }
  families.push_back(std::move(refused));
  const StorageRecoveries recoveries = db_.recoveries();
  MetricFamily recovered{"switchboard_rocksdb_error_recoveries_total",
                         "RocksDB's recoveries from errors that stopped writes, by outcome.",
                         MetricType::Counter,
                         {}};
  for (const auto& [outcome, count] :
       {std::pair{"recovered", recoveries.recovered}, std::pair{"failed", recoveries.failed}}) {
    prometheus::ClientMetric& sample = recovered.metric.emplace_back();
    sample.label.push_back({"outcome", outcome});
    sample.counter.value = static_cast<double>(count);
  }
  families.push_back(std::move(recovered));

  struct statvfs disk {};
  if (statvfs(db_.path().c_str(), &disk) == 0) {
    families.push_back(SingleSample(
        "switchboard_data_dir_free_bytes",
        "Bytes free for this process on the file system of the data directory.", MetricType::Gauge,
        static_cast<double>(disk.f_bavail) * static_cast<double>(disk.f_frsize)));
    families.push_back(
        SingleSample("switchboard_data_dir_size_bytes",
                     "Size of the file system of the data directory.", MetricType::Gauge,
                     static_cast<double>(disk.f_blocks) * static_cast<double>(disk.f_frsize)));
  }
  return families;
}

}  // namespace switchboard
