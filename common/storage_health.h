// Ties a service's database to its server: while RocksDB refuses writes the
// health entry "switchboard.storage" is NOT_SERVING, and when it has failed
// for good the server stops and the process exits with
// ServiceHost::kExitFailed, to be restarted.
//
//   ReportStorage(store.db(), *host, "intake");
//
// Why exit rather than reopen in place: RocksDB refuses DB::Resume() after a
// failed fsync or an I/O error, and after a failed fsync the kernel may have
// dropped the dirty pages and cleared the error, so a later fsync can succeed
// over lost data. Nothing held in memory (memtables, requests in flight,
// outbox positions, push lanes) can be trusted to match the disk any more. A
// restart rebuilds all of it from what is on disk, by the same path that
// every kill -9 test proves. A full disk is different: RocksDB resumes by
// itself once space is freed, so the service stays up, serves reads, and
// only "switchboard.storage" says NOT_SERVING. The overall health ("")
// stays SERVING then, so that liveness does not restart a process that
// cannot start on a full disk anyway, and readiness keeps the reads flowing.
#ifndef SWITCHBOARD_COMMON_STORAGE_HEALTH_H_
#define SWITCHBOARD_COMMON_STORAGE_HEALTH_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/rocks.h"
#include "common/server.h"

namespace switchboard {

// The health entry that follows the database.
inline constexpr absl::string_view kStorageHealthName = "switchboard.storage";

// `db` and `host` must outlive each other's use: stop watching before either
// goes (StopReportingStorage, or destroy the database after the host).
void ReportStorage(Database& db, ServiceHost& host, absl::string_view service);

// Stops the reports to the host (before the host is destroyed).
void StopReportingStorage(Database& db);

// The tuning given by the flags every service binary takes:
// --rocksdb_write_buffer_mb, --verify_checksums_on_open,
// --wal_point_in_time_recovery. INVALID_ARGUMENT for a value out of range.
absl::StatusOr<StorageTuning> StorageTuningFromFlags();

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_STORAGE_HEALTH_H_
