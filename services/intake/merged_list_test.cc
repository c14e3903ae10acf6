#include "services/intake/merged_list.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "services/intake/issue_id.h"

namespace switchboard::intake {
namespace {

using ::testing::ElementsAre;

// A partition's issues, newest first, listed as IssueStore does: from below
// `before`, at most `limit` matches, examining at most `budget`.
struct FakePartition {
  std::vector<std::string> ids;  // ascending

  PartitionPage List(const std::string& before, int limit, int budget,
                     const std::function<bool(const std::string&)>& matches) const {
    PartitionPage page;
    int examined = 0;
    std::string last_examined;
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
      if (!before.empty() && *it >= before) continue;
      if (static_cast<int>(page.issues.size()) == limit || examined == budget) {
        page.resume = static_cast<int>(page.issues.size()) == limit
                          ? std::string(IssueIdFromName(page.issues.back().name()))
                          : last_examined;
        break;
      }
      ++examined;
      last_examined = *it;
      if (matches(*it)) {
        issue::v1::Issue issue;
        issue.set_name(IssueName(*it));
        page.issues.push_back(issue);
      }
    }
    return page;
  }
};

std::vector<std::string> Names(const std::vector<issue::v1::Issue>& issues) {
  std::vector<std::string> ids;
  for (const auto& issue : issues) ids.emplace_back(IssueIdFromName(issue.name()));
  return ids;
}

// Pages through a merged list of `partitions` to the end; each position
// goes through its text form, as a page token carries it.
std::vector<std::string> ListAll(const std::vector<FakePartition>& partitions, int page_size,
                                 int budget, const std::function<bool(const std::string&)>& matches,
                                 int* pages_out = nullptr) {
  const int count = static_cast<int>(partitions.size());
  MergedPosition position{.before = "", .done = std::vector<bool>(count, false)};
  std::vector<std::string> all;
  for (int pages = 1; pages < 100000; ++pages) {
    std::vector<std::optional<PartitionPage>> parts(count);
    for (int p = 0; p < count; ++p) {
      if (!position.done[p])
        parts[p] = partitions[p].List(position.before, page_size, budget, matches);
    }
    MergedPage merged = MergePages(std::move(parts), page_size, position);
    EXPECT_LE(static_cast<int>(merged.issues.size()), page_size);
    for (const std::string& id : Names(merged.issues)) all.push_back(id);
    if (pages_out != nullptr) *pages_out = pages;
    if (!merged.next.has_value()) return all;
    absl::StatusOr<MergedPosition> decoded =
        DecodeMergedPosition(EncodeMergedPosition(*merged.next), count);
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, *merged.next);
    position = *decoded;
  }
  ADD_FAILURE() << "the list never ended";
  return all;
}

// Ids as the generators of `count` partitions make them, over a few
// milliseconds, and each one's partition.
std::vector<FakePartition> MakePartitions(int count, int issues, unsigned seed) {
  std::vector<FakePartition> partitions(count);
  FakeClock clock(absl::FromUnixMillis(1'800'000'000'000));
  std::vector<std::unique_ptr<IssueIdGenerator>> generators;
  for (int p = 0; p < count; ++p)
    generators.push_back(std::make_unique<IssueIdGenerator>(clock, "", p));
  std::mt19937 random(seed);
  for (int i = 0; i < issues; ++i) {
    if (random() % 4 == 0) clock.Advance(absl::Milliseconds(1));
    const int p = static_cast<int>(random() % count);
    partitions[p].ids.push_back(generators[p]->Next());
  }
  return partitions;
}

TEST(MergedListTest, EveryIssueOnceNewestFirstWhateverThePageSizeAndBudget) {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    const std::vector<FakePartition> partitions = MakePartitions(3, 400, seed);
    std::vector<std::string> expected;
    for (const auto& partition : partitions) {
      expected.insert(expected.end(), partition.ids.begin(), partition.ids.end());
    }
    std::sort(expected.rbegin(), expected.rend());
    for (int page_size : {1, 7, 100, 1000}) {
      for (int budget : {5, 50, 100000}) {
        const auto all = [](const std::string&) { return true; };
        EXPECT_EQ(ListAll(partitions, page_size, std::max(budget, page_size), all), expected)
            << "seed " << seed << " page " << page_size << " budget " << budget;
      }
    }
  }
}

TEST(MergedListTest, AFilterThatMatchesFewStillEndsAndSkipsNothing) {
  const std::vector<FakePartition> partitions = MakePartitions(3, 600, 9);
  // One issue in 50 matches: partitions stop on their scan budget often.
  const auto rare = [](const std::string& id) { return id.back() == 'a' || id.back() == 'z'; };
  std::vector<std::string> expected;
  for (const auto& partition : partitions) {
    for (const std::string& id : partition.ids) {
      if (rare(id)) expected.push_back(id);
    }
  }
  std::sort(expected.rbegin(), expected.rend());
  int pages = 0;
  EXPECT_EQ(ListAll(partitions, 10, 20, rare, &pages), expected);
  EXPECT_GT(pages, 1);
}

TEST(MergedListTest, APartitionThatIsDoneIsNotAskedAgain) {
  std::vector<FakePartition> partitions = MakePartitions(3, 30, 3);
  partitions[1].ids.clear();  // nothing at all
  MergedPosition top{.before = "", .done = {false, false, false}};
  std::vector<std::optional<PartitionPage>> parts(3);
  for (int p = 0; p < 3; ++p)
    parts[p] = partitions[p].List("", 5, 1000, [](auto&) { return true; });
  MergedPage merged = MergePages(std::move(parts), 5, top);
  ASSERT_TRUE(merged.next.has_value());
  EXPECT_THAT(merged.next->done, ElementsAre(false, true, false));
}

TEST(MergedListTest, PositionsThatNoPageGaveAreRefused) {
  for (absl::string_view text : {"", "nope", "01hzzzzzzzzzzzzzzzzzzzzzzz|3", "x|", "|1,a", "|-1"}) {
    EXPECT_EQ(DecodeMergedPosition(text, 3).status().code(), absl::StatusCode::kInvalidArgument)
        << text;
  }
  absl::StatusOr<MergedPosition> top = DecodeMergedPosition("|", 2);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->before, "");
  EXPECT_THAT(top->done, ElementsAre(false, false));
}

}  // namespace
}  // namespace switchboard::intake
