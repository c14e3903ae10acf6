#include "services/intake/problem_store.h"

#include <algorithm>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/intake/issue_id.h"

namespace switchboard::intake {
namespace {

using issue::v1::Problem;

constexpr char kProblems[] = "problems";
constexpr char kIndex[] = "problem_index";
constexpr char kLinks[] = "problem_links";
constexpr char kCustomers[] = "problem_customers";
constexpr char kWindows[] = "correlation_windows";
constexpr char kLinkedIssues[] = "linked_issues";

constexpr absl::string_view kSeparator("\0", 1);

rocksdb::Slice AsSlice(absl::string_view text) { return rocksdb::Slice(text.data(), text.size()); }

std::string Under(absl::string_view problem_id, absl::string_view item) {
  return absl::StrCat(problem_id, kSeparator, item);
}

}  // namespace

std::vector<std::string> ProblemIndexKeys(const Problem& problem) {
  const absl::string_view id = ProblemIdFromName(problem.name());
  std::vector<std::string> keys;
  auto add = [&](absl::string_view field, absl::string_view value) {
    if (!value.empty()) keys.push_back(absl::StrCat(field, kSeparator, value, kSeparator, id));
  };
  if (problem.state() != issue::v1::PROBLEM_STATE_UNSPECIFIED) {
    add("state", issue::v1::ProblemState_Name(problem.state()));
  }
  add("business_group", problem.owner().business_group());
  add("team", problem.owner().team());
  add("product", problem.product());
  return keys;
}

std::vector<ColumnFamily> ProblemStore::ColumnFamilies() {
  // Problem ids grow with time, so do the index's and the links' suffixes;
  // a key's window is looked up for every correlated issue and is found for
  // most of them during an outage, so it is not "mostly miss".
  return {{kProblems, kIssueIdLength},
          {kIndex, kIssueIdLength},
          {kLinks, kIssueIdLength},
          kCustomers,
          kWindows,
          {kLinkedIssues, kIssueIdLength, /*mostly_miss=*/true}};
}

ProblemStore::ProblemStore(Database& db)
    : db_(db),
      problems_(db.Family(kProblems)),
      index_(db.Family(kIndex)),
      links_(db.Family(kLinks)),
      customers_(db.Family(kCustomers)),
      windows_(db.Family(kWindows)),
      linked_issues_(db.Family(kLinkedIssues)) {}

absl::StatusOr<absl::optional<v1::StoredProblem>> ProblemStore::Get(absl::string_view id) const {
  return ReadRecord<v1::StoredProblem>(db_.db(), problems_, id, "problem");
}

absl::StatusOr<std::string> ProblemStore::LastProblemId() const {
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, problems_));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "find the last problem"));
  return it->Valid() ? it->key().ToString() : std::string();
}

absl::StatusOr<absl::optional<KeyWindow>> ProblemStore::Window(absl::string_view key) const {
  ASSIGN_OR_RETURN(
      absl::optional<v1::CorrelationWindow> stored,
      ReadRecord<v1::CorrelationWindow>(db_.db(), windows_, key, "correlation window"));
  if (!stored.has_value()) return absl::nullopt;
  return KeyWindow{stored->problem(), FromProtoTime(stored->start()), FromProtoTime(stored->end())};
}

absl::StatusOr<absl::optional<v1::ProblemLinkRecord>> ProblemStore::Link(
    absl::string_view problem_id, absl::string_view issue_id) const {
  return ReadRecord<v1::ProblemLinkRecord>(db_.db(), links_, Under(problem_id, issue_id),
                                           "problem link");
}

absl::StatusOr<CustomerCount> ProblemStore::CustomerLinks(absl::string_view problem_id,
                                                          absl::string_view customer_id) const {
  std::string value;
  const rocksdb::Status status =
      db_.db().Get({}, customers_, Under(problem_id, customer_id), &value);
  if (status.IsNotFound()) return CustomerCount{};
  RETURN_IF_ERROR(FromRocks(status, "read a problem's customer"));
  // "{links}:{tier}"; a record of the first version is "{links}" alone.
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(value, ':');
  CustomerCount count;
  int tier = 0;
  if (!absl::SimpleAtoi(parts.first, &count.links) || count.links <= 0 ||
      (!parts.second.empty() &&
       (!absl::SimpleAtoi(parts.second, &tier) || !issue::v1::CustomerTier_IsValid(tier)))) {
    return absl::DataLossError(absl::StrCat("the customer record ", customer_id, " of problem ",
                                            problem_id, " is corrupt"));
  }
  count.tier = static_cast<issue::v1::CustomerTier>(tier);
  return count;
}

absl::StatusOr<std::vector<std::string>> ProblemStore::LinkedIssueIds(absl::string_view problem_id,
                                                                      absl::string_view after_issue,
                                                                      int limit) const {
  const std::string prefix = Under(problem_id, "");
  std::vector<std::string> ids;
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, links_));
  if (after_issue.empty()) {
    it->Seek(prefix);
  } else {
    const std::string after = Under(problem_id, after_issue);
    it->Seek(after);
    if (it->Valid() && it->key() == rocksdb::Slice(after)) it->Next();
  }
  for (; it->Valid() && it->key().starts_with(prefix) && static_cast<int>(ids.size()) < limit;
       it->Next()) {
    ids.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read a problem's links"));
  return ids;
}

absl::StatusOr<std::vector<std::string>> ProblemStore::NewestLinkedIssueIds(
    absl::string_view problem_id, int limit) const {
  const std::string prefix = Under(problem_id, "");
  std::string end = prefix;
  end.back() = '\x01';  // just past every key under the prefix
  std::vector<std::string> ids;
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, links_));
  for (it->SeekForPrev(end);
       it->Valid() && it->key().starts_with(prefix) && static_cast<int>(ids.size()) < limit;
       it->Prev()) {
    ids.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read a problem's links"));
  return ids;
}

absl::StatusOr<absl::optional<std::string>> ProblemStore::ProblemOfIssue(
    absl::string_view issue_id) const {
  std::string problem_id;
  const rocksdb::Status status = db_.db().Get({}, linked_issues_, AsSlice(issue_id), &problem_id);
  if (status.IsNotFound()) return absl::nullopt;
  RETURN_IF_ERROR(FromRocks(status, "read an issue's problem"));
  return problem_id;
}

void ProblemStore::PutProblemOfIssue(absl::string_view issue_id, absl::string_view problem_id,
                                     rocksdb::WriteBatch& batch) const {
  if (problem_id.empty()) {
    batch.Delete(linked_issues_, AsSlice(issue_id));
  } else {
    batch.Put(linked_issues_, AsSlice(issue_id), AsSlice(problem_id));
  }
}

absl::StatusOr<std::vector<Problem>> ProblemStore::List(const std::vector<FilterTerm>& terms,
                                                        absl::string_view before, int limit,
                                                        int scan_budget,
                                                        std::string* resume) const {
  resume->clear();
  // With a term, its index entries name the candidates; without, every
  // problem is one. Either way ids come newest first from below `before`.
  std::string prefix;
  rocksdb::ColumnFamilyHandle* family = problems_;
  if (!terms.empty()) {
    prefix = absl::StrCat(FilterFieldName(terms.front().field), kSeparator, terms.front().value,
                          kSeparator);
    family = index_;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, family));
  if (before.empty()) {
    // Just past the prefix: every key under it is smaller.
    std::string end = prefix;
    if (end.empty()) {
      it->SeekToLast();
    } else {
      end.back() = '\x01';
      it->SeekForPrev(end);
    }
  } else {
    it->SeekForPrev(absl::StrCat(prefix, before));
    if (it->Valid() && it->key() == rocksdb::Slice(absl::StrCat(prefix, before))) it->Prev();
  }
  std::vector<Problem> problems;
  int scanned = 0;
  std::string last_id;
  for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    const std::string id = it->key().ToString().substr(prefix.size());
    if (static_cast<int>(problems.size()) == limit || scanned == scan_budget) {
      *resume = last_id;
      return problems;
    }
    ++scanned;
    last_id = id;
    ASSIGN_OR_RETURN(absl::optional<v1::StoredProblem> stored, Get(id));
    if (!stored.has_value()) continue;  // an index entry of a newer write's
    if (MatchesFilter(stored->problem(), terms)) problems.push_back(stored->problem());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "list problems"));
  return problems;
}

void ProblemStore::Put(const v1::StoredProblem* before, const v1::StoredProblem& after,
                       rocksdb::WriteBatch& batch) const {
  const absl::string_view id = ProblemIdFromName(after.problem().name());
  v1::StoredProblem stored = after;
  stored.mutable_problem()->clear_linked_issues();  // read from the links when asked
  batch.Put(problems_, AsSlice(id), stored.SerializeAsString());
  const std::vector<std::string> old_keys =
      before == nullptr ? std::vector<std::string>() : ProblemIndexKeys(before->problem());
  const std::vector<std::string> new_keys = ProblemIndexKeys(after.problem());
  for (const std::string& key : old_keys) {
    if (std::find(new_keys.begin(), new_keys.end(), key) == new_keys.end()) {
      batch.Delete(index_, key);
    }
  }
  for (const std::string& key : new_keys) {
    if (std::find(old_keys.begin(), old_keys.end(), key) == old_keys.end()) {
      batch.Put(index_, key, "");
    }
  }
}

void ProblemStore::PutWindow(absl::string_view key, const KeyWindow& window,
                             rocksdb::WriteBatch& batch) const {
  v1::CorrelationWindow stored;
  stored.set_problem(window.problem);
  *stored.mutable_start() = ToProtoTime(window.start);
  *stored.mutable_end() = ToProtoTime(window.end);
  batch.Put(windows_, AsSlice(key), stored.SerializeAsString());
}

void ProblemStore::PutLink(absl::string_view problem_id, const v1::ProblemLinkRecord& record,
                           rocksdb::WriteBatch& batch) const {
  batch.Put(links_, Under(problem_id, IssueIdFromName(record.issue().issue())),
            record.SerializeAsString());
}

void ProblemStore::DeleteLink(absl::string_view problem_id, absl::string_view issue_id,
                              rocksdb::WriteBatch& batch) const {
  batch.Delete(links_, Under(problem_id, issue_id));
}

void ProblemStore::PutCustomerLinks(absl::string_view problem_id, absl::string_view customer_id,
                                    const CustomerCount& count, rocksdb::WriteBatch& batch) const {
  if (count.links <= 0) {
    batch.Delete(customers_, Under(problem_id, customer_id));
  } else {
    batch.Put(customers_, Under(problem_id, customer_id),
              absl::StrCat(count.links, ":", static_cast<int>(count.tier)));
  }
}

}  // namespace switchboard::intake
