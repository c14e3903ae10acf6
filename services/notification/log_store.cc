#include "services/notification/log_store.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status.h"

namespace switchboard::notification {
namespace {

constexpr char kLog[] = "log";
constexpr char kDedup[] = "dedup";
constexpr char kCursors[] = "cursors";

std::string LogPrefix(absl::string_view subscriber) {
  return absl::StrCat(subscriber, absl::string_view("\0", 1));
}

std::string LogKey(absl::string_view subscriber, uint64_t sequence) {
  std::string key = LogPrefix(subscriber);
  AppendFixed64BigEndian(sequence, key);
  return key;
}

rocksdb::Slice AsSlice(absl::string_view text) { return rocksdb::Slice(text.data(), text.size()); }

absl::StatusOr<uint64_t> ReadFixed64(const rocksdb::Status& status, const std::string& value,
                                     absl::string_view what) {
  if (status.IsNotFound()) return 0;
  RETURN_IF_ERROR(FromRocks(status, absl::StrCat("read ", what)));
  uint64_t result;
  if (!DecodeFixed64BigEndian(value, &result))
    return absl::DataLossError(absl::StrCat(what, " is corrupt"));
  return result;
}

}  // namespace

std::vector<std::string> LogStore::ColumnFamilies() { return {kLog, kDedup, kCursors}; }

LogStore::LogStore(Database& db)
    : db_(db), log_(db.Family(kLog)), dedup_(db.Family(kDedup)), cursors_(db.Family(kCursors)) {}

absl::StatusOr<uint64_t> LogStore::LastSequence(absl::string_view subscriber) const {
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, log_));
  it->SeekForPrev(LogKey(subscriber, ~uint64_t{0}));
  RETURN_IF_ERROR(FromRocks(it->status(), "read a log"));
  const std::string prefix = LogPrefix(subscriber);
  if (!it->Valid() || !it->key().starts_with(prefix)) return 0;
  uint64_t sequence;
  if (!DecodeFixed64BigEndian(
          absl::string_view(it->key().data() + prefix.size(), it->key().size() - prefix.size()),
          &sequence)) {
    return absl::DataLossError("a log key is corrupt");
  }
  return sequence;
}

absl::StatusOr<bool> LogStore::HasEvent(absl::string_view subscriber,
                                        absl::string_view event_id) const {
  std::string value;
  const rocksdb::Status status =
      db_.db().Get({}, dedup_, absl::StrCat(LogPrefix(subscriber), event_id), &value);
  if (status.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocks(status, "read a dedup record"));
  return true;
}

absl::StatusOr<uint64_t> LogStore::Cursor(absl::string_view subscriber) const {
  std::string value;
  return ReadFixed64(db_.db().Get({}, cursors_, AsSlice(subscriber), &value), value, "a cursor");
}

absl::StatusOr<std::vector<v1::Notification>> LogStore::ReadAfter(absl::string_view subscriber,
                                                                  uint64_t after, int limit) const {
  std::vector<v1::Notification> page;
  const std::string prefix = LogPrefix(subscriber);
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, log_));
  for (it->Seek(LogKey(subscriber, after + 1));
       it->Valid() && it->key().starts_with(prefix) && static_cast<int>(page.size()) < limit;
       it->Next()) {
    if (!page.emplace_back().ParseFromArray(it->value().data(),
                                            static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("a notification of ", subscriber, " does not parse"));
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read a log"));
  return page;
}

void LogStore::Append(const v1::Notification& notification, rocksdb::WriteBatch& batch) const {
  const std::string key = LogKey(notification.subscriber(), notification.sequence());
  batch.Put(log_, key, notification.SerializeAsString());
  batch.Put(dedup_, absl::StrCat(LogPrefix(notification.subscriber()), notification.event().id()),
            EncodeFixed64BigEndian(notification.sequence()));
}

void LogStore::SetCursor(absl::string_view subscriber, uint64_t sequence,
                         rocksdb::WriteBatch& batch) const {
  batch.Put(cursors_, AsSlice(subscriber), EncodeFixed64BigEndian(sequence));
}

}  // namespace switchboard::notification
