// A database's health on /metrics, read from RocksDB's properties at each
// scrape:
//
//   switchboard_rocksdb_live_sst_bytes{column_family}          data on disk
//   switchboard_rocksdb_memtable_bytes{column_family}          data in memtables
//   switchboard_rocksdb_estimated_keys{column_family}          keys, estimated
//   switchboard_rocksdb_pending_compaction_bytes{column_family} compaction debt
//   switchboard_rocksdb_running_compactions / _running_flushes
//   switchboard_rocksdb_block_cache_bytes                      cache in use
//   switchboard_rocksdb_write_delayed / _write_stopped         1 while stalled
//   switchboard_rocksdb_write_stalls_total{condition}          delayed, stopped
//   switchboard_rocksdb_write_stall_seconds_total              time stalled
//   switchboard_rocksdb_background_errors_total                failed flushes/compactions
//   switchboard_rocksdb_writes_refused{reason}                 1 while writes are refused
//   switchboard_rocksdb_error_recoveries_total{outcome}        recovered, failed
//   switchboard_data_dir_free_bytes / _size_bytes              the data directory's disk
//
// Pass it to ServiceHost::Start with the service's registry.
#ifndef SWITCHBOARD_COMMON_ROCKS_METRICS_H_
#define SWITCHBOARD_COMMON_ROCKS_METRICS_H_

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "common/rocks.h"

namespace switchboard {

class DatabaseMetrics final : public prometheus::Collectable {
 public:
  // `db` must outlive every scrape: stop the metrics endpoint first.
  explicit DatabaseMetrics(const Database& db) : db_(db) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Database& db_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_ROCKS_METRICS_H_
