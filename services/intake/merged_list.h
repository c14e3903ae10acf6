// ListIssues across intake partitions: each partition lists its own issues
// newest first, from a position ("before this id"), and the partition that
// took the call merges their pages into one, newest first. Ids are ordered
// by time across partitions (issue_id.h), so the merge is by id.
//
// A partition may stop early (its scan budget, or a full page) and say where
// it stopped: its next page starts below that id. Nothing older than the
// newest such stop can be given out yet, as that partition has not been read
// below it. So a merged page holds the newest items from the newest stop up,
// at most page_size of them, and the next page starts below the last one
// given out, in every partition: no issue is given out twice, none is
// skipped.
//
// The position of a merged list is one id (every partition goes on below
// it; "" for the top) and the partitions known to have nothing more.
#ifndef SWITCHBOARD_SERVICES_INTAKE_MERGED_LIST_H_
#define SWITCHBOARD_SERVICES_INTAKE_MERGED_LIST_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard::intake {

struct MergedPosition {
  std::string before;      // "" for the newest
  std::vector<bool> done;  // by partition: nothing more to read there

  bool operator==(const MergedPosition&) const = default;
};

// One partition's page: its issues below the position, newest first, and
// where it stopped ("" when it read to its end).
struct PartitionPage {
  std::vector<issue::v1::Issue> issues;
  std::string resume;
};

struct MergedPage {
  std::vector<issue::v1::Issue> issues;
  // The next page's position; none when every partition is done.
  std::optional<MergedPosition> next;
};

// Merges `pages` (by partition; none for a partition that is done) read
// from `from`, into at most `page_size` issues.
MergedPage MergePages(std::vector<std::optional<PartitionPage>> pages, int page_size,
                      const MergedPosition& from);

// A position as text for a page token, and back. `partitions` is the count;
// INVALID_ARGUMENT for text no position gives.
std::string EncodeMergedPosition(const MergedPosition& position);
absl::StatusOr<MergedPosition> DecodeMergedPosition(absl::string_view text, int partitions);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_MERGED_LIST_H_
