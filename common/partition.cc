#include "common/partition.h"

#include <memory>

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/host_port.h"
#include "common/status.h"

namespace switchboard {
namespace {

// In the default column family; the value is "{self}/{count}".
constexpr char kRecordKey[] = "partition";

bool HasAnyKey(Database& db) {
  for (rocksdb::ColumnFamilyHandle* family : db.Families()) {
    std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(rocksdb::ReadOptions(), family));
    it->SeekToFirst();
    if (it->Valid()) return true;
  }
  return false;
}

}  // namespace

int PartitionOf(absl::string_view key, int count) {
  if (count <= 1) return 0;
  uint64_t hash = 14695981039346656037ull;  // FNV-1a, 64 bits
  for (const char c : key) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(count));
}

absl::StatusOr<Partitioning> ParsePartitioning(int self, absl::string_view addresses) {
  Partitioning partitioning;
  partitioning.self = self;
  if (!addresses.empty()) {
    partitioning.addresses = absl::StrSplit(addresses, ',');
  }
  for (const std::string& address : partitioning.addresses) {
    if (!IsValidEndpoint(address)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--partition_addresses must be host:port entries separated by commas; \"",
                       address, "\" is not one"));
    }
  }
  if (partitioning.count() > kMaxPartitions) {
    return absl::InvalidArgumentError(absl::StrCat("--partition_addresses names ",
                                                   partitioning.count(), " partitions; at most ",
                                                   kMaxPartitions, " are supported"));
  }
  if (partitioning.self < 0 || partitioning.self >= partitioning.count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--partition=", partitioning.self, " is not one of the ", partitioning.count(),
        " partitions that --partition_addresses names (0..", partitioning.count() - 1, ")"));
  }
  return partitioning;
}

absl::Status CheckPartitionRecord(Database& db, const Partitioning& partitioning,
                                  absl::string_view service) {
  const std::string wanted = absl::StrCat(partitioning.self, "/", partitioning.count());
  std::string recorded;
  const rocksdb::Status read =
      db.db().Get(rocksdb::ReadOptions(), db.Family("default"), kRecordKey, &recorded);
  if (read.IsNotFound()) {
    // A store written before partitions existed holds one partition's data.
    if (partitioning.partitioned() && HasAnyKey(db)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the ", service, " store in ", db.path(),
          " was written by a single-partition deployment, and this process was started as "
          "partition ",
          partitioning.self, " of ", partitioning.count(),
          "; start it as one partition (no --partition_addresses), or give this partition an "
          "empty data directory (moving data between partitions is not supported)"));
    }
    rocksdb::WriteOptions options;
    options.sync = true;
    return FromRocks(db.db().Put(options, db.Family("default"), kRecordKey, wanted),
                     "record the partition");
  }
  RETURN_IF_ERROR(FromRocks(read, "read the partition record"));
  if (recorded != wanted) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", service, " store in ", db.path(), " belongs to partition ", recorded,
        " (partition/partitions) and this process was started as ", wanted,
        "; give each partition its own data directory, and keep the number of partitions a "
        "cluster was deployed with (changing it on a live cluster is not supported)"));
  }
  return absl::OkStatus();
}

}  // namespace switchboard
