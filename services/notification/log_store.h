// The notification service's RocksDB schema: a dense, ordered log per
// subscriber, the event ids already in each log, and each subscriber's
// acknowledged cursor.
//
//   log      "{subscriber}\0" + fixed64 sequence → Notification
//   dedup    "{subscriber}\0{event id}" → fixed64 sequence
//   cursors  "{subscriber}" → fixed64 acknowledged sequence
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_LOG_STORE_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_LOG_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/rocks.h"
#include "common/status.h"
#include "switchboard/notification/v1/notification.pb.h"

namespace switchboard::notification {

// "{subscriber}\0": the prefix of a subscriber's keys in every per-subscriber
// column family.
std::string SubscriberPrefix(absl::string_view subscriber);

// "{subscriber}\0" + fixed64 sequence: a notification's key.
std::string SequenceKey(absl::string_view subscriber, uint64_t sequence);

// Parses up to `limit` values of the keys starting with `prefix` into `T`,
// from the first key after `after` ("" or a key outside the prefix: from the
// start of the prefix). Sets `*last_key` to the key of the last value read
// when more keys follow, or "" when the prefix is exhausted.
template <typename T>
absl::StatusOr<std::vector<T>> ScanPrefix(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                                          absl::string_view prefix, absl::string_view after,
                                          int limit, std::string* last_key);

class LogStore {
 public:
  static std::vector<ColumnFamily> ColumnFamilies();

  explicit LogStore(Database& db);

  // The highest sequence in the subscriber's log; 0 when it is empty.
  absl::StatusOr<uint64_t> LastSequence(absl::string_view subscriber) const;

  // Whether `event_id` is already in the subscriber's log.
  absl::StatusOr<bool> HasEvent(absl::string_view subscriber, absl::string_view event_id) const;

  // The acknowledged cursor; 0 when nothing was acknowledged.
  absl::StatusOr<uint64_t> Cursor(absl::string_view subscriber) const;

  // Up to `limit` notifications with sequences above `after`, in order.
  absl::StatusOr<std::vector<v1::Notification>> ReadAfter(absl::string_view subscriber,
                                                          uint64_t after, int limit) const;

  // Adds `notification` to its subscriber's log, with its dedup record.
  void Append(const v1::Notification& notification, rocksdb::WriteBatch& batch) const;

  void SetCursor(absl::string_view subscriber, uint64_t sequence, rocksdb::WriteBatch& batch) const;

  // What maintenance learns of one log.
  struct LogState {
    std::string subscriber;
    uint64_t first = 0;   // the lowest sequence still stored
    uint64_t last = 0;    // the highest
    uint64_t cursor = 0;  // acknowledged
    // When the first unacknowledged notification was appended; absl::InfinitePast()
    // when all are acknowledged.
    absl::Time oldest_unacknowledged = absl::InfinitePast();
  };

  // Every subscriber with a log, in name order, starting after
  // `after_subscriber` and visiting at most `limit` of them.
  absl::StatusOr<std::vector<LogState>> Logs(absl::string_view after_subscriber, int limit) const;

  // Deletes up to `limit` acknowledged notifications of `log` appended before
  // `cutoff`, oldest first, with their dedup records. The newest notification
  // is always kept, so that the log's sequence carries on. Returns how many
  // it deleted.
  absl::StatusOr<int64_t> Compact(const LogState& log, absl::Time cutoff, int limit,
                                  rocksdb::WriteBatch& batch) const;

 private:
  Database& db_;
  rocksdb::ColumnFamilyHandle* log_;
  rocksdb::ColumnFamilyHandle* dedup_;
  rocksdb::ColumnFamilyHandle* cursors_;
};

template <typename T>
absl::StatusOr<std::vector<T>> ScanPrefix(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                                          absl::string_view prefix, absl::string_view after,
                                          int limit, std::string* last_key) {
  std::vector<T> items;
  last_key->clear();
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, family));
  const rocksdb::Slice start(prefix.data(), prefix.size());
  if (absl::StartsWith(after, prefix) && after.size() > prefix.size()) {
    it->Seek(rocksdb::Slice(after.data(), after.size()));
    if (it->Valid() && it->key() == rocksdb::Slice(after.data(), after.size())) it->Next();
  } else {
    it->Seek(start);
  }
  for (; it->Valid() && it->key().starts_with(start); it->Next()) {
    if (static_cast<int>(items.size()) == limit) {
      // There is more: resume after the last one returned.
      break;
    }
    if (!items.emplace_back().ParseFromArray(it->value().data(),
                                             static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("a stored ", T::descriptor()->name(), " of ", prefix, " does not parse"));
    }
    last_key->assign(it->key().data(), it->key().size());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scan a column family"));
  if (!(it->Valid() && it->key().starts_with(start))) last_key->clear();
  return items;
}

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_LOG_STORE_H_
