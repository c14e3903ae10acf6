// RocksDB as every service opens it: one database per service, a column
// family per kind of record, options tuned for small values written in
// synced groups, and RocksDB statuses mapped to absl::Status.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
//                    Database::Open({.path = data_dir, .column_families = {"issues", "outbox"}}));
//   rocksdb::ColumnFamilyHandle* issues = db->Family("issues");
#ifndef SWITCHBOARD_COMMON_ROCKS_H_
#define SWITCHBOARD_COMMON_ROCKS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include "absl/strings/string_view.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace switchboard {

// Maps a RocksDB status: NotFound → NOT_FOUND, Corruption → DATA_LOSS,
// Busy/TryAgain/TimedOut/IOError/ShutdownInProgress → UNAVAILABLE (nothing
// was written, so a retry is safe), anything else → INTERNAL. `context` says
// what was being done, e.g. "write issue". A full disk is UNAVAILABLE with a
// RetryInfo and says so in plain words; RocksDB's text, with the file's
// path, is for the log only.
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view context);

// How long a caller refused for a full disk should wait before trying
// again: RocksDB checks for free space every 5 seconds.
inline constexpr absl::Duration kNoSpaceRetryDelay = absl::Seconds(5);

// A column family, and what its keys look like, so RocksDB can be tuned for
// them. A plain name converts to a family with no hints.
struct ColumnFamily {
  ColumnFamily(const char* family) : name(family) {}  // NOLINT(google-explicit-constructor)
  ColumnFamily(std::string family)
      : name(std::move(family)) {}  // NOLINT(google-explicit-constructor)
  ColumnFamily(std::string family, size_t suffix_bytes, bool mostly_miss = false)
      : name(std::move(family)),
        ascending_suffix_bytes(suffix_bytes),
        lookups_mostly_miss(mostly_miss) {}

  std::string name;
  // Non-zero: keys end in this many bytes that grow with each insert under
  // the same leading bytes (a big-endian sequence, a time-ordered id), as in
  // a queue, a log or an index by id. A memtable insert then starts from
  // where the last one under the same leading bytes went, instead of
  // searching the skip list from the top.
  size_t ascending_suffix_bytes = 0;
  // Most point lookups are for keys that do not exist (a dedup check): a
  // memtable bloom filter answers them without a skip-list search.
  bool lookups_mostly_miss = false;
};

// What an operator (through flags, common/storage_health.h) or a test may
// change in how a service opens its database.
struct StorageTuning {
  // Memtable size per family. Also the free space RocksDB waits for before
  // it resumes writing after the disk was full.
  size_t write_buffer_bytes = size_t{32} << 20;
  // Read every SST file once at open and check its blocks' checksums, so
  // that a damaged file stops the start rather than a later read or
  // compaction (costs about a second per GiB; bench/RESULTS.md).
  bool verify_checksums_on_open = true;
  // Open a WAL damaged in its last records by dropping the damage and
  // everything after it (RocksDB's point-in-time recovery), instead of
  // refusing. Only for starting once after a power loss or OS crash that
  // left a damaged last record; writes after the damage are lost.
  bool wal_point_in_time_recovery = false;
  // The file system RocksDB works on; null: the machine's. Tests pass one
  // that injects faults (common/testing/faulty_file_system.h).
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

struct DatabaseOptions {
  // The database directory, created with its parents if missing.
  std::string path;
  // Column families besides "default"; created if missing.
  std::vector<ColumnFamily> column_families;
  // Shared block cache for all families.
  size_t block_cache_bytes = size_t{64} << 20;
  // All memtables of all families together: past it the largest is flushed,
  // so a service's memory does not grow with its number of families (each
  // could otherwise hold up to 4 memtables of write_buffer_bytes).
  size_t memtable_budget_bytes = size_t{128} << 20;
  StorageTuning tuning;
};

// Whether the database takes writes. RocksDB stops writes after an error it
// cannot ignore, and reads go on in every state.
enum class StorageState {
  kWritable,
  // Writes refused until RocksDB recovers by itself: the disk is full. It
  // checks every 5 seconds for write_buffer_bytes of free space, then
  // flushes and resumes.
  kRecovering,
  // Writes refused for good: a failed fsync, an I/O error, corruption.
  // RocksDB refuses to resume; only reopening the database helps, so the
  // service exits and is restarted (common/storage_health.h).
  kFailed,
};

struct StorageHealth {
  StorageState state = StorageState::kWritable;
  // Why writes are refused: "no_space", "io_error", "corruption" or
  // "other"; empty while writable.
  std::string reason;
  // RocksDB's error, for the log; empty while writable.
  std::string error;
};

// Outcomes of RocksDB's recoveries since the database was opened.
struct StorageRecoveries {
  uint64_t recovered = 0;
  uint64_t failed = 0;
};

// Write stalls since the database was opened: how often a column family
// entered each stall condition, and for how long writes were held back.
struct WriteStalls {
  uint64_t delayed = 0;  // writes slowed down
  uint64_t stopped = 0;  // writes stopped until compaction catches up
  // Time during which at least one column family was delayed or stopped,
  // including a stall still going on.
  double stalled_seconds = 0;
};

class StallListener;
class StorageListener;

class Database {
 public:
  // Opens (creating if needed) the database with its column families.
  // UNAVAILABLE if another process holds it. DATA_LOSS if it is corrupt: a
  // checksum that fails in the MANIFEST, anywhere in the WAL but a torn last
  // record (a crash mid-write, never acknowledged, which is dropped), or,
  // with verify_checksums_on_open, in any SST file; the message names the
  // file where RocksDB does, and says what to do.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const DatabaseOptions& options);

  // Closes the families, then the database.
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB& db() const { return *db_; }

  // The handle of a family named at Open ("default" included). The name must
  // be one of them; anything else is a programming error and aborts.
  rocksdb::ColumnFamilyHandle* Family(absl::string_view name) const;

  // Every family's handle, "default" first.
  std::vector<rocksdb::ColumnFamilyHandle*> Families() const;

  const std::string& path() const { return path_; }

  WriteStalls Stalls() const;

  // Whether writes are taken now, and why not.
  StorageHealth storage() const;
  StorageRecoveries recoveries() const;

  // Runs `observer` with storage() now, then at each change, on whichever
  // thread RocksDB reports it (the writer's or a background one). It must
  // be quick and must not call into this Database. One observer; a second
  // call replaces the first.
  void WatchStorage(std::function<void(const StorageHealth&)> observer);

 private:
  Database() = default;

  std::string path_;
  std::shared_ptr<StallListener> stalls_;
  std::shared_ptr<StorageListener> storage_;
  // The environment over options.file_system; it must outlive db_.
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>> families_;
};

// Reads and parses the protobuf record `key` of `family`; nullopt when it is
// absent, DATA_LOSS when it does not parse. `what` names it in errors.
template <typename T>
absl::StatusOr<absl::optional<T>> ReadRecord(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                                             absl::string_view key, absl::string_view what) {
  std::string bytes;
  const rocksdb::Status status = db.Get({}, family, rocksdb::Slice(key.data(), key.size()), &bytes);
  if (status.IsNotFound()) return absl::nullopt;
  absl::Status read = FromRocks(status, absl::StrCat("read ", what));
  if (!read.ok()) return read;
  T record;
  if (!record.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(what, " ", key, " does not parse"));
  }
  return record;
}

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_ROCKS_H_
