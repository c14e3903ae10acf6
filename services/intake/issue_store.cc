#include "services/intake/issue_store.h"

#include <algorithm>
#include <memory>

#include <limits>
#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/key_encoding.h"
#include "common/status.h"

#include "services/intake/issue_id.h"

namespace switchboard::intake {
namespace {

using issue::v1::Issue;

constexpr char kIssues[] = "issues";
constexpr char kRequests[] = "requests";
constexpr char kIndex[] = "index";
constexpr char kTimers[] = "timers";
constexpr char kChanges[] = "change_requests";

// Fields with an index, the most selective first: a filter uses the first.
// The most selective first: a filter's first indexed term is the one read.
constexpr FilterField kIndexedFields[] = {
    FilterField::kProblem,       FilterField::kCustomerId, FilterField::kRating,
    FilterField::kTeam,          FilterField::kProduct,    FilterField::kSource,
    FilterField::kBusinessGroup, FilterField::kSeverity,   FilterField::kState,
};

std::string IndexPrefix(FilterField field, absl::string_view value) {
  return absl::StrCat(FilterFieldName(field), absl::string_view("\0", 1), value,
                      absl::string_view("\0", 1));
}

}  // namespace

std::vector<ColumnFamily> IssueStore::ColumnFamilies() {
  // Issue ids grow with time; so, mostly, do timer deadlines. Request ids
  // are the caller's, and looked up before each new issue: almost always
  // absent.
  return {{kIssues, kIssueIdLength},
          {kRequests, 0, /*mostly_miss=*/true},
          {kIndex, kIssueIdLength},
          {kTimers, 8 + kIssueIdLength},
          {kChanges, kIssueIdLength, /*mostly_miss=*/true}};
}

IssueStore::IssueStore(Database& db)
    : db_(db),
      issues_(db.Family(kIssues)),
      requests_(db.Family(kRequests)),
      index_(db.Family(kIndex)),
      timers_(db.Family(kTimers)),
      changes_(db.Family(kChanges)) {}

std::string TimerKey(const Issue& issue) {
  if (issue.state() != issue::v1::STATE_ROUTED || !issue.has_ack_deadline()) return "";
  const int64_t nanos =
      issue.ack_deadline().seconds() * 1'000'000'000 + issue.ack_deadline().nanos();
  std::string key = EncodeFixed64BigEndian(static_cast<uint64_t>(std::max<int64_t>(0, nanos)));
  absl::StrAppend(&key, IssueIdFromName(issue.name()));
  return key;
}

std::vector<std::string> IndexKeys(const Issue& issue, absl::string_view id) {
  std::vector<std::string> keys;
  for (FilterField field : kIndexedFields) {
    const std::string value = FilterFieldValue(issue, field);
    if (value.empty() || absl::EndsWith(value, "_UNSPECIFIED")) continue;
    keys.push_back(absl::StrCat(IndexPrefix(field, value), id));
  }
  return keys;
}

absl::StatusOr<Issue> IssueStore::Get(absl::string_view id) const {
  std::string bytes;
  rocksdb::Status status = db_.db().Get({}, issues_, rocksdb::Slice(id.data(), id.size()), &bytes);
  if (status.IsNotFound()) return absl::NotFoundError(absl::StrCat("no issue issues/", id));
  RETURN_IF_ERROR(FromRocks(status, "read an issue"));
  Issue issue;
  if (!issue.ParseFromString(bytes))
    return absl::DataLossError(absl::StrCat("issue ", id, " does not parse"));
  return issue;
}

std::unique_ptr<rocksdb::ManagedSnapshot> IssueStore::TakeSnapshot() const {
  return std::make_unique<rocksdb::ManagedSnapshot>(&db_.db());
}

absl::Status IssueStore::ForEachInState(issue::v1::State state,
                                        absl::FunctionRef<bool(const Issue&)> fn,
                                        const rocksdb::Snapshot* snapshot) const {
  std::unique_ptr<rocksdb::ManagedSnapshot> own;
  if (snapshot == nullptr) {
    own = TakeSnapshot();
    snapshot = own->snapshot();
  }
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  const std::string prefix = IndexPrefix(FilterField::kState, issue::v1::State_Name(state));
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator(options, index_));
  std::string bytes;
  Issue issue;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    rocksdb::Slice id = it->key();
    id.remove_prefix(prefix.size());
    rocksdb::Status status = db_.db().Get(options, issues_, id, &bytes);
    if (status.IsNotFound()) continue;  // an index entry without its issue: nothing to count
    RETURN_IF_ERROR(FromRocks(status, "read an issue"));
    if (!issue.ParseFromString(bytes)) {
      return absl::DataLossError(absl::StrCat("issue ", id.ToString(), " does not parse"));
    }
    if (!fn(issue)) return absl::OkStatus();
  }
  return FromRocks(it->status(), "scan the state index");
}

absl::StatusOr<absl::optional<RequestRecord>> IssueStore::FindRequest(
    absl::string_view request_id) const {
  std::string value;
  rocksdb::Status status =
      db_.db().Get({}, requests_, rocksdb::Slice(request_id.data(), request_id.size()), &value);
  if (status.IsNotFound()) return absl::nullopt;
  RETURN_IF_ERROR(FromRocks(status, "read a request record"));
  return DecodeRequestRecord(value);
}

absl::StatusOr<absl::optional<v1::ChangeRecord>> IssueStore::FindChange(
    absl::string_view issue_id, absl::string_view request_id) const {
  return ReadRecord<v1::ChangeRecord>(db_.db(), changes_, absl::StrCat(issue_id, request_id),
                                      "change record");
}

void IssueStore::PutChange(absl::string_view issue_id, absl::string_view request_id,
                           const v1::ChangeRecord& record, rocksdb::WriteBatch& batch) const {
  const std::string key = absl::StrCat(issue_id, request_id);
  batch.Put(changes_, rocksdb::Slice(key.data(), key.size()), record.SerializeAsString());
}

absl::StatusOr<RequestRecord> DecodeRequestRecord(absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, ':');
  RequestRecord record;
  if (parts.size() != 2 || !IsValidIssueId(parts[0]) ||
      !absl::SimpleAtoi(parts[1], &record.fingerprint)) {
    return absl::DataLossError("a request record is corrupt");
  }
  record.issue_id = std::string(parts[0]);
  return record;
}

absl::StatusOr<std::string> IssueStore::LastIssueId() const {
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, issues_));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "find the last issue"));
  return it->Valid() ? it->key().ToString() : std::string();
}

absl::StatusOr<std::vector<Issue>> IssueStore::List(
    const std::vector<FilterTerm>& terms, absl::string_view before, int limit, int scan_budget,
    std::string* resume, absl::FunctionRef<bool(const Issue&)> visible) const {
  // Walk the index of the most selective term, or all issues, backwards.
  const FilterTerm* indexed = nullptr;
  for (FilterField field : kIndexedFields) {
    for (const FilterTerm& term : terms) {
      if (indexed == nullptr && term.field == field) indexed = &term;
    }
  }
  const std::string prefix = indexed == nullptr ? "" : IndexPrefix(indexed->field, indexed->value);
  std::unique_ptr<rocksdb::Iterator> it(
      db_.db().NewIterator({}, indexed == nullptr ? issues_ : index_));
  if (before.empty()) {
    // Just past the prefix: the prefix with its last byte (the \0) raised.
    if (prefix.empty()) {
      it->SeekToLast();
    } else {
      std::string end = prefix;
      end.back() = '\x01';
      it->SeekForPrev(end);
    }
  } else {
    it->SeekForPrev(absl::StrCat(prefix, before));
    if (it->Valid() && it->key() == rocksdb::Slice(absl::StrCat(prefix, before))) it->Prev();
  }

  std::vector<Issue> page;
  resume->clear();
  int examined = 0;
  std::string last_examined;
  for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    const absl::string_view id(it->key().data() + prefix.size(), it->key().size() - prefix.size());
    if (static_cast<int>(page.size()) == limit || examined == scan_budget) {
      // More may follow: resume after the last one looked at.
      *resume = page.size() == static_cast<size_t>(limit)
                    ? std::string(IssueIdFromName(page.back().name()))
                    : last_examined;
      break;
    }
    ++examined;
    Issue issue;
    if (indexed == nullptr) {
      if (!issue.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("issue ", id, " does not parse"));
      }
    } else {
      ASSIGN_OR_RETURN(issue, Get(id));
    }
    last_examined = std::string(id);
    if (MatchesFilter(issue, terms) && visible(issue)) page.push_back(std::move(issue));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "list issues"));
  return page;
}

void IssueStore::AddNewIssue(const Issue& issue, absl::string_view request_id, uint64_t fingerprint,
                             rocksdb::WriteBatch& batch) const {
  const absl::string_view id = IssueIdFromName(issue.name());
  batch.Put(issues_, rocksdb::Slice(id.data(), id.size()), issue.SerializeAsString());
  batch.Put(requests_, rocksdb::Slice(request_id.data(), request_id.size()),
            absl::StrCat(id, ":", fingerprint));
  for (const std::string& key : IndexKeys(issue, id)) batch.Put(index_, key, "");
}

absl::StatusOr<absl::optional<SlaTimer>> IssueStore::FirstTimer() const {
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, timers_));
  it->SeekToFirst();
  RETURN_IF_ERROR(FromRocks(it->status(), "read the timers"));
  if (!it->Valid()) return absl::nullopt;
  return DecodeTimerKey(absl::string_view(it->key().data(), it->key().size()));
}

absl::StatusOr<SlaTimer> DecodeTimerKey(absl::string_view key) {
  uint64_t nanos;
  if (key.size() <= 8 || !DecodeFixed64BigEndian(key.substr(0, 8), &nanos) ||
      nanos > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
      !IsValidIssueId(key.substr(8))) {
    return absl::DataLossError("a timer key is corrupt");
  }
  return SlaTimer{absl::FromUnixNanos(static_cast<int64_t>(nanos)), std::string(key.substr(8)),
                  std::string(key)};
}

void IssueStore::PutIssue(const Issue& issue, rocksdb::WriteBatch& batch) const {
  const absl::string_view id = IssueIdFromName(issue.name());
  batch.Put(issues_, rocksdb::Slice(id.data(), id.size()), issue.SerializeAsString());
}

void IssueStore::UpdateIndex(const Issue& before, const Issue& after,
                             rocksdb::WriteBatch& batch) const {
  const absl::string_view id = IssueIdFromName(after.name());
  const std::vector<std::string> old_keys = IndexKeys(before, id);
  const std::vector<std::string> new_keys = IndexKeys(after, id);
  for (const std::string& key : old_keys) {
    if (std::find(new_keys.begin(), new_keys.end(), key) == new_keys.end())
      batch.Delete(index_, key);
  }
  for (const std::string& key : new_keys) {
    if (std::find(old_keys.begin(), old_keys.end(), key) == old_keys.end())
      batch.Put(index_, key, "");
  }
}

void IssueStore::UpdateTimer(const Issue& before, const Issue& after,
                             rocksdb::WriteBatch& batch) const {
  const std::string old_key = TimerKey(before);
  const std::string new_key = TimerKey(after);
  if (old_key == new_key) return;
  if (!old_key.empty()) batch.Delete(timers_, old_key);
  if (!new_key.empty())
    batch.Put(timers_, new_key, absl::StrCat(after.assignment().escalation_level()));
}

void IssueStore::DeleteTimer(const std::string& key, rocksdb::WriteBatch& batch) const {
  batch.Delete(timers_, key);
}

}  // namespace switchboard::intake
