#include "services/routing/ruleset_store.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status.h"

namespace switchboard::routing {
namespace {

constexpr char kRulesets[] = "rulesets";
constexpr char kMeta[] = "meta";
constexpr char kActiveRevision[] = "active_revision";

}  // namespace

std::vector<ColumnFamily> RulesetStore::ColumnFamilies() { return {kRulesets, kMeta}; }

absl::StatusOr<absl::optional<v1::Ruleset>> RulesetStore::LoadActive() const {
  std::string pointer;
  rocksdb::Status status = db_.db().Get({}, db_.Family(kMeta), kActiveRevision, &pointer);
  if (status.IsNotFound()) return absl::nullopt;
  RETURN_IF_ERROR(FromRocks(status, "read the active revision"));
  uint64_t revision;
  if (!DecodeFixed64BigEndian(pointer, &revision)) {
    return absl::DataLossError("the active revision pointer is corrupt");
  }
  absl::StatusOr<v1::Ruleset> ruleset = Get(static_cast<int64_t>(revision));
  if (!ruleset.ok()) {
    return absl::DataLossError(
        absl::StrCat("active revision ", revision, ": ", ruleset.status().message()));
  }
  return *std::move(ruleset);
}

absl::StatusOr<v1::Ruleset> RulesetStore::Get(int64_t revision) const {
  std::string bytes;
  rocksdb::Status status =
      db_.db().Get({}, db_.Family(kRulesets), EncodeFixed64BigEndian(revision), &bytes);
  if (status.IsNotFound())
    return absl::NotFoundError(absl::StrCat("no ruleset revision ", revision));
  RETURN_IF_ERROR(FromRocks(status, "read a ruleset"));
  v1::Ruleset ruleset;
  if (!ruleset.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("ruleset revision ", revision, " does not parse"));
  }
  return ruleset;
}

absl::StatusOr<std::vector<v1::Ruleset>> RulesetStore::ListBefore(int64_t before, int limit) const {
  std::vector<v1::Ruleset> page;
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, db_.Family(kRulesets)));
  if (before > 0) {
    it->SeekForPrev(EncodeFixed64BigEndian(before - 1));
  } else {
    it->SeekToLast();
  }
  for (; it->Valid() && static_cast<int>(page.size()) < limit; it->Prev()) {
    v1::Ruleset& ruleset = page.emplace_back();
    if (!ruleset.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored ruleset does not parse");
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "list rulesets"));
  return page;
}

absl::Status RulesetStore::SaveActive(const v1::Ruleset& ruleset) {
  rocksdb::WriteBatch batch;
  const std::string key = EncodeFixed64BigEndian(ruleset.revision());
  rocksdb::Status status = batch.Put(db_.Family(kRulesets), key, ruleset.SerializeAsString());
  if (status.ok()) status = batch.Put(db_.Family(kMeta), kActiveRevision, key);
  if (!status.ok()) return FromRocks(status, "prepare the ruleset write");
  return commits_.CommitAndWait(std::move(batch));
}

}  // namespace switchboard::routing
