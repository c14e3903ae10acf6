#include "common/rocks.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/sync.h"

namespace switchboard {

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(context, ": ", status.ToString());
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kIOError:
    case rocksdb::Status::kShutdownInProgress:
    case rocksdb::Status::kIncomplete:
      return absl::UnavailableError(message);
    case rocksdb::Status::kAborted:
      return absl::AbortedError(message);
    default:
      return absl::InternalError(message);
  }
}

// Counts the stall conditions RocksDB reports for each column family, and
// logs each change: a stall means compaction is not keeping up.
class StallListener final : public rocksdb::EventListener {
 public:
  void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override {
    using rocksdb::WriteStallCondition;
    const WriteStallCondition now = info.condition.cur;
    log::Warning("rocksdb write stall condition changed",
                 {{"column_family", info.cf_name},
                  {"condition", now == WriteStallCondition::kNormal    ? "normal"
                                : now == WriteStallCondition::kDelayed ? "delayed"
                                                                       : "stopped"}});
    MutexLock lock(mu_);
    const bool was_stalled = !stalled_.empty();
    if (now == WriteStallCondition::kNormal) {
      stalled_.erase(info.cf_name);
    } else {
      stalled_[info.cf_name] = now;
      if (now == WriteStallCondition::kDelayed) ++counts_.delayed;
      if (now == WriteStallCondition::kStopped) ++counts_.stopped;
    }
    if (!was_stalled && !stalled_.empty()) stall_start_ = absl::Now();
    if (was_stalled && stalled_.empty()) {
      counts_.stalled_seconds += absl::ToDoubleSeconds(absl::Now() - stall_start_);
    }
  }

  WriteStalls Counts() {
    MutexLock lock(mu_);
    WriteStalls counts = counts_;
    if (!stalled_.empty())
      counts.stalled_seconds += absl::ToDoubleSeconds(absl::Now() - stall_start_);
    return counts;
  }

 private:
  Mutex mu_;
  absl::flat_hash_map<std::string, rocksdb::WriteStallCondition> stalled_ ABSL_GUARDED_BY(mu_);
  absl::Time stall_start_ ABSL_GUARDED_BY(mu_);
  WriteStalls counts_ ABSL_GUARDED_BY(mu_);
};

namespace {

// The leading bytes of a key: all but its last `suffix` bytes. Keys under one
// prefix share a memtable insert hint (see ColumnFamily).
class StripSuffixTransform final : public rocksdb::SliceTransform {
 public:
  explicit StripSuffixTransform(size_t suffix)
      : suffix_(suffix), name_(absl::StrCat("switchboard.StripSuffix.", suffix)) {}

  const char* Name() const override { return name_.c_str(); }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - suffix_);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= suffix_; }

 private:
  const size_t suffix_;
  const std::string name_;
};

rocksdb::ColumnFamilyOptions FamilyOptions(const DatabaseOptions& options,
                                           const ColumnFamily& hints,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions family;
  if (hints.ascending_suffix_bytes > 0) {
    family.memtable_insert_with_hint_prefix_extractor =
        std::make_shared<StripSuffixTransform>(hints.ascending_suffix_bytes);
  }
  if (hints.lookups_mostly_miss) {
    family.memtable_whole_key_filtering = true;
    family.memtable_prefix_bloom_size_ratio = 0.05;
  }
  family.write_buffer_size = options.write_buffer_bytes;
  family.max_write_buffer_number = 4;
  family.min_write_buffer_number_to_merge = 1;
  family.level_compaction_dynamic_level_bytes = true;
  family.target_file_size_base = 64 << 20;
  family.max_bytes_for_level_base = 256 << 20;
  // Debian's librocksdb is built with LZ4 and ZSTD.
  family.compression = rocksdb::kLZ4Compression;
  family.bottommost_compression = rocksdb::kZSTD;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  table.block_size = 16 << 10;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return family;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.path, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create data directory ", options.path, ": ", error.message()));
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 4;
  db_options.bytes_per_sync = 1 << 20;
  db_options.max_total_wal_size = 256 << 20;
  db_options.keep_log_file_num = 5;
  db_options.max_manifest_file_size = 64 << 20;
  // Writes come from one commit thread per database (CommitQueue): pipelining
  // lets the next group enter the memtable while the WAL syncs.
  db_options.enable_pipelined_write = true;
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes);
  auto stalls = std::make_shared<StallListener>();
  db_options.listeners.push_back(stalls);

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName,
                           FamilyOptions(options, {rocksdb::kDefaultColumnFamilyName}, cache));
  for (const ColumnFamily& family : options.column_families) {
    descriptors.emplace_back(family.name, FamilyOptions(options, family, cache));
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("open database ", options.path));
  }
  auto database = absl::WrapUnique(new Database());
  database->path_ = options.path;
  database->stalls_ = std::move(stalls);
  database->db_.reset(raw);
  for (rocksdb::ColumnFamilyHandle* handle : handles) database->families_.emplace_back(handle);
  log::Info("database open",
            {{"path", options.path}, {"column_families", static_cast<int>(handles.size())}});
  return database;
}

Database::~Database() {
  if (db_ == nullptr) return;
  for (auto& family : families_) {
    rocksdb::Status status = db_->DestroyColumnFamilyHandle(family.release());
    if (!status.ok()) log::Warning("closing column family", {{"error", status.ToString()}});
  }
  rocksdb::Status status = db_->Close();
  if (!status.ok()) log::Warning("closing database", {{"error", status.ToString()}});
}

std::vector<rocksdb::ColumnFamilyHandle*> Database::Families() const {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (const auto& family : families_) handles.push_back(family.get());
  return handles;
}

WriteStalls Database::Stalls() const { return stalls_->Counts(); }

rocksdb::ColumnFamilyHandle* Database::Family(absl::string_view name) const {
  for (const auto& family : families_) {
    if (family->GetName() == name) return family.get();
  }
  log::Error("unknown column family", {{"name", name}});
  std::abort();
}

}  // namespace switchboard
