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
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include "absl/strings/string_view.h"

#include <rocksdb/db.h>
#include <rocksdb/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"

namespace switchboard {

// Maps a RocksDB status: NotFound → NOT_FOUND, Corruption → DATA_LOSS,
// Busy/TryAgain/TimedOut/IOError/ShutdownInProgress → UNAVAILABLE (nothing
// was written, so a retry is safe), anything else → INTERNAL. `context` says
// what was being done, e.g. "write issue".
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view context);

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

struct DatabaseOptions {
  // The database directory, created with its parents if missing.
  std::string path;
  // Column families besides "default"; created if missing.
  std::vector<ColumnFamily> column_families;
  // Shared block cache for all families.
  size_t block_cache_bytes = size_t{64} << 20;
  // Memtable size per family.
  size_t write_buffer_bytes = size_t{32} << 20;
  // All memtables of all families together: past it the largest is flushed,
  // so a service's memory does not grow with its number of families (each
  // could otherwise hold up to 4 memtables of write_buffer_bytes).
  size_t memtable_budget_bytes = size_t{128} << 20;
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

class Database {
 public:
  // Opens (creating if needed) the database with its column families.
  // UNAVAILABLE if another process holds it, DATA_LOSS if it is corrupt.
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

 private:
  Database() = default;

  std::string path_;
  std::shared_ptr<StallListener> stalls_;
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
