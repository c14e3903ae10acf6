#include "services/notification/log_store.h"

#include <limits>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/proto_time.h"
#include "common/status.h"

namespace switchboard::notification {
namespace {

constexpr char kLog[] = "log";
constexpr char kDedup[] = "dedup";
constexpr char kCursors[] = "cursors";

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

// The sequence at the end of a key of `prefix`.
absl::StatusOr<uint64_t> SequenceOfKey(const rocksdb::Slice& key, absl::string_view prefix) {
  uint64_t sequence;
  if (key.size() != prefix.size() + 8 ||
      !DecodeFixed64BigEndian(absl::string_view(key.data() + prefix.size(), 8), &sequence)) {
    return absl::DataLossError(absl::StrCat("a log key of ", prefix, " is corrupt"));
  }
  return sequence;
}

}  // namespace

std::string SubscriberPrefix(absl::string_view subscriber) {
  return absl::StrCat(subscriber, absl::string_view("\0", 1));
}

std::string SequenceKey(absl::string_view subscriber, uint64_t sequence) {
  std::string key = SubscriberPrefix(subscriber);
  AppendFixed64BigEndian(sequence, key);
  return key;
}

std::vector<ColumnFamily> LogStore::ColumnFamilies() {
  // A log's keys grow by sequence under its subscriber; a dedup check is
  // made for every (recipient, event) published and almost always misses.
  return {{kLog, 8}, {kDedup, 0, /*mostly_miss=*/true}, kCursors};
}

LogStore::LogStore(Database& db)
    : db_(db), log_(db.Family(kLog)), dedup_(db.Family(kDedup)), cursors_(db.Family(kCursors)) {}

absl::StatusOr<uint64_t> LogStore::LastSequence(absl::string_view subscriber) const {
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, log_));
  it->SeekForPrev(SequenceKey(subscriber, ~uint64_t{0}));
  RETURN_IF_ERROR(FromRocks(it->status(), "read a log"));
  const std::string prefix = SubscriberPrefix(subscriber);
  if (!it->Valid() || !it->key().starts_with(prefix)) return 0;
  return SequenceOfKey(it->key(), prefix);
}

absl::StatusOr<bool> LogStore::HasEvent(absl::string_view subscriber,
                                        absl::string_view event_id) const {
  std::string value;
  const rocksdb::Status status =
      db_.db().Get({}, dedup_, absl::StrCat(SubscriberPrefix(subscriber), event_id), &value);
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
  if (after == std::numeric_limits<uint64_t>::max()) return page;  // nothing can follow
  const std::string prefix = SubscriberPrefix(subscriber);
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, log_));
  for (it->Seek(SequenceKey(subscriber, after + 1));
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
  const std::string key = SequenceKey(notification.subscriber(), notification.sequence());
  batch.Put(log_, key, notification.SerializeAsString());
  batch.Put(dedup_,
            absl::StrCat(SubscriberPrefix(notification.subscriber()), notification.event().id()),
            EncodeFixed64BigEndian(notification.sequence()));
}

void LogStore::SetCursor(absl::string_view subscriber, uint64_t sequence,
                         rocksdb::WriteBatch& batch) const {
  batch.Put(cursors_, AsSlice(subscriber), EncodeFixed64BigEndian(sequence));
}

absl::StatusOr<std::vector<LogStore::LogState>> LogStore::Logs(absl::string_view after_subscriber,
                                                               int limit) const {
  std::vector<LogState> logs;
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, log_));
  // Keys are "{subscriber}\0{sequence}": "{subscriber}\1" sorts after every
  // key of that subscriber and before the next subscriber's.
  if (after_subscriber.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(absl::StrCat(after_subscriber, absl::string_view("\1", 1)));
  }
  while (it->Valid() && static_cast<int>(logs.size()) < limit) {
    const absl::string_view key(it->key().data(), it->key().size());
    const size_t end = key.find('\0');
    if (end == absl::string_view::npos) return absl::DataLossError("a log key is corrupt");
    LogState& log = logs.emplace_back();
    log.subscriber = std::string(key.substr(0, end));
    const std::string prefix = SubscriberPrefix(log.subscriber);
    ASSIGN_OR_RETURN(log.first, SequenceOfKey(it->key(), prefix));
    ASSIGN_OR_RETURN(log.last, LastSequence(log.subscriber));
    ASSIGN_OR_RETURN(log.cursor, Cursor(log.subscriber));
    if (log.cursor < log.last) {
      it->Seek(SequenceKey(log.subscriber, log.cursor + 1));
      if (it->Valid() && it->key().starts_with(prefix)) {
        v1::Notification oldest;
        if (!oldest.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
          return absl::DataLossError(
              absl::StrCat("a notification of ", log.subscriber, " does not parse"));
        log.oldest_unacknowledged = FromProtoTime(oldest.publish_time());
      }
    }
    it->Seek(absl::StrCat(log.subscriber, absl::string_view("\1", 1)));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read the logs"));
  return logs;
}

absl::StatusOr<int64_t> LogStore::Compact(const LogState& log, absl::Time cutoff, int limit,
                                          rocksdb::WriteBatch& batch) const {
  const uint64_t end = std::min(log.cursor, log.last - 1);  // inclusive; keeps the newest
  if (log.last == 0 || end < log.first) return 0;
  int64_t deleted = 0;
  const std::string prefix = SubscriberPrefix(log.subscriber);
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, log_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && deleted < limit;
       it->Next()) {
    ASSIGN_OR_RETURN(const uint64_t sequence, SequenceOfKey(it->key(), prefix));
    if (sequence > end) break;
    v1::Notification notification;
    if (!notification.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())))
      return absl::DataLossError(
          absl::StrCat("a notification of ", log.subscriber, " does not parse"));
    if (FromProtoTime(notification.publish_time()) >= cutoff) break;
    batch.Delete(log_, it->key());
    batch.Delete(dedup_, absl::StrCat(prefix, notification.event().id()));
    ++deleted;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read a log"));
  return deleted;
}

}  // namespace switchboard::notification
