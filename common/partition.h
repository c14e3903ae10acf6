// Partitions: a service that runs as P processes splits its keys among them.
// Partition I of P owns a key when PartitionOf(key, P) == I. P is fixed when
// a cluster is deployed and recorded in each partition's store; moving keys
// between partitions (changing P) is not supported on a live cluster.
//
// The hash is FNV-1a over the key's bytes, reduced modulo P. It is part of
// every store's layout: changing it would strand every key. Never change it.
#ifndef SWITCHBOARD_COMMON_PARTITION_H_
#define SWITCHBOARD_COMMON_PARTITION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/rocks.h"

namespace switchboard {

// The most partitions a service may run as.
inline constexpr int kMaxPartitions = 64;

// Which partition of `count` owns `key`.
int PartitionOf(absl::string_view key, int count);

// This process's place among its service's partitions.
struct Partitioning {
  int self = 0;
  // Every partition's gRPC address, in partition order; empty for a service
  // that is one partition.
  std::vector<std::string> addresses;

  int count() const { return addresses.empty() ? 1 : static_cast<int>(addresses.size()); }
  bool partitioned() const { return count() > 1; }
  bool Owns(int partition) const { return partition == self; }
};

// The partitioning of --partition=`self` and --partition_addresses=
// `addresses` (comma-separated host:port; empty for one partition).
// INVALID_ARGUMENT naming the flag when they do not fit together.
absl::StatusOr<Partitioning> ParsePartitioning(int self, absl::string_view addresses);

// ParsePartitioning of the flags themselves (common/partition_flags.cc, linked
// by the partitioned services only).
absl::StatusOr<Partitioning> PartitioningFromFlags();

// Checks `partitioning` against what `db` recorded when it was first
// started, and records it on a first start. A store holds one partition's
// keys: started as another partition, or with another count, it would serve
// keys it does not have and lose the ones it has, so that is refused with
// FAILED_PRECONDITION saying what to do. A store from before partitions is
// partition 0 of 1.
absl::Status CheckPartitionRecord(Database& db, const Partitioning& partitioning,
                                  absl::string_view service);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_PARTITION_H_
