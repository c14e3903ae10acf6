// The partition flags, for the services that run as partitions (intake and
// notification); see ../../docs/scale-out.md.
#include <string>

#include "absl/flags/flag.h"
#include "common/partition.h"

ABSL_FLAG(int, partition, 0, "this process's partition, 0-based (see --partition_addresses)");
ABSL_FLAG(std::string, partition_addresses, "",
          "the gRPC addresses of every partition of this service, in partition order, "
          "comma-separated; their count is the number of partitions, and entry --partition is "
          "this process's own address. Empty: one partition");

namespace switchboard {

absl::StatusOr<Partitioning> PartitioningFromFlags() {
  return ParsePartitioning(absl::GetFlag(FLAGS_partition),
                           absl::GetFlag(FLAGS_partition_addresses));
}

}  // namespace switchboard
