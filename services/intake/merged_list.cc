#include "services/intake/merged_list.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "services/intake/issue_id.h"

namespace switchboard::intake {
namespace {

absl::string_view IdOf(const issue::v1::Issue& issue) { return IssueIdFromName(issue.name()); }

}  // namespace

MergedPage MergePages(std::vector<std::optional<PartitionPage>> pages, int page_size,
                      const MergedPosition& from) {
  // Nothing below the newest stop may be given out yet.
  std::string floor;
  for (const std::optional<PartitionPage>& page : pages) {
    if (page.has_value() && !page->resume.empty()) floor = std::max(floor, page->resume);
  }
  struct Candidate {
    issue::v1::Issue* issue;
    int partition;
  };
  std::vector<Candidate> candidates;
  for (int partition = 0; partition < static_cast<int>(pages.size()); ++partition) {
    if (!pages[partition].has_value()) continue;
    for (issue::v1::Issue& issue : pages[partition]->issues) {
      // A partition that stopped has read everything down to its stop,
      // the stop included (it is the next page's exclusive start).
      if (IdOf(issue) >= floor) candidates.push_back({&issue, partition});
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return IdOf(*a.issue) > IdOf(*b.issue); });
  const bool full = static_cast<int>(candidates.size()) >= page_size;
  if (full) candidates.resize(page_size);

  MergedPage merged;
  // Below the last one given out when the page is full; else below the
  // floor, everything from it up being given out.
  const std::string boundary = full ? std::string(IdOf(*candidates.back().issue)) : floor;
  MergedPosition next{.before = boundary, .done = from.done};
  next.done.resize(pages.size(), false);
  bool more = false;
  for (int partition = 0; partition < static_cast<int>(pages.size()); ++partition) {
    if (!pages[partition].has_value()) {
      next.done[partition] = true;
      continue;
    }
    const PartitionPage& page = *pages[partition];
    // Done when it read to its end and nothing of it is left below the
    // boundary.
    const bool read_all = page.resume.empty();
    const bool left_below = !boundary.empty() && std::any_of(page.issues.begin(), page.issues.end(),
                                                             [&](const issue::v1::Issue& issue) {
                                                               return IdOf(issue) < boundary;
                                                             });
    next.done[partition] = read_all && !left_below;
    if (!next.done[partition]) more = true;
  }
  merged.issues.reserve(candidates.size());
  for (const Candidate& candidate : candidates)
    merged.issues.push_back(std::move(*candidate.issue));
  if (more) merged.next = std::move(next);
  return merged;
}

std::string EncodeMergedPosition(const MergedPosition& position) {
  std::vector<std::string> done;
  for (int partition = 0; partition < static_cast<int>(position.done.size()); ++partition) {
    if (position.done[partition]) done.push_back(absl::StrCat(partition));
  }
  return absl::StrCat(position.before, "|", absl::StrJoin(done, ","));
}

absl::StatusOr<MergedPosition> DecodeMergedPosition(absl::string_view text, int partitions) {
  const auto invalid = [] {
    return InvalidArgumentWithViolations("invalid page_token",
                                         {{"page_token", "not a page token"}});
  };
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '|');
  if (parts.size() != 2) return invalid();
  MergedPosition position;
  position.before = std::string(parts[0]);
  if (!position.before.empty() && !IsValidIssueId(position.before)) return invalid();
  position.done.assign(partitions, false);
  if (!parts[1].empty()) {
    for (absl::string_view index : absl::StrSplit(parts[1], ',')) {
      int partition = -1;
      if (!absl::SimpleAtoi(index, &partition) || partition < 0 || partition >= partitions) {
        return invalid();
      }
      position.done[partition] = true;
    }
  }
  return position;
}

}  // namespace switchboard::intake
