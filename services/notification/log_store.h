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
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rocks.h"
#include "switchboard/notification/v1/notification.pb.h"

namespace switchboard::notification {

class LogStore {
 public:
  static std::vector<std::string> ColumnFamilies();

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

 private:
  Database& db_;
  rocksdb::ColumnFamilyHandle* log_;
  rocksdb::ColumnFamilyHandle* dedup_;
  rocksdb::ColumnFamilyHandle* cursors_;
};

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_LOG_STORE_H_
