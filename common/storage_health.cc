#include "common/storage_health.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(int, rocksdb_write_buffer_mb, 32,
          "memtable size per column family, in MiB; also the free space RocksDB waits for before "
          "it resumes writing after the disk was full");

ABSL_FLAG(bool, verify_checksums_on_open, true,
          "read every SST file at start and check its checksums, so that a damaged file stops "
          "the start (about a second per GiB) rather than a later read");

ABSL_FLAG(bool, wal_point_in_time_recovery, false,
          "start once after a power loss that damaged the WAL's last records: drop the damage and "
          "every write after it instead of refusing to start (docs/faults.md)");

namespace switchboard {

void ReportStorage(Database& db, ServiceHost& host, absl::string_view service) {
  db.WatchStorage(
      [&host, service = std::string(service), path = db.path()](const StorageHealth& health) {
        host.SetHealth(std::string(kStorageHealthName), health.state == StorageState::kWritable);
        if (health.state == StorageState::kFailed) {
          host.Fail(absl::UnavailableError(
              absl::StrCat(service, "'s database in ", path, " failed (", health.error,
                           "); exiting so that it is reopened from what is on disk")));
        }
      });
}

void StopReportingStorage(Database& db) { db.WatchStorage(nullptr); }

absl::StatusOr<StorageTuning> StorageTuningFromFlags() {
  const int megabytes = absl::GetFlag(FLAGS_rocksdb_write_buffer_mb);
  if (megabytes < 1 || megabytes > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rocksdb_write_buffer_mb must be between 1 and 1024; it is ", megabytes));
  }
  StorageTuning tuning;
  tuning.write_buffer_bytes = static_cast<size_t>(megabytes) << 20;
  tuning.verify_checksums_on_open = absl::GetFlag(FLAGS_verify_checksums_on_open);
  tuning.wal_point_in_time_recovery = absl::GetFlag(FLAGS_wal_point_in_time_recovery);
  return tuning;
}

}  // namespace switchboard
