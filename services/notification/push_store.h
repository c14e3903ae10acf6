// The RocksDB schema of push delivery: subscriptions with their progress,
// dead letters, the redrive queue, and the record of every attempt.
//
//   push_subscriptions      "{subscriber}" → PushSubscription
//   dead_letters            "{subscriber}\0" + fixed64 sequence → DeadLetter
//   redrive                 "{subscriber}\0" + fixed64 sequence → Notification
//   attempts                fixed64 attempt id → DeliveryAttempt (oldest first,
//                           for retention)
//   attempts_by_subscriber  "{subscriber}\0" + fixed64 ~id → DeliveryAttempt
//   attempts_by_event       "{event id}\0" + fixed64 ~id → DeliveryAttempt
//
// The two attempt indexes store the ~id (bitwise complement) so that a prefix
// scan reads the newest attempt first.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_PUSH_STORE_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_PUSH_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rocks.h"
#include "switchboard/notification/v1/notification.pb.h"

namespace switchboard::notification {

// A page of records and the key to resume after ("" when there are no more).
template <typename T>
struct StoredPage {
  std::vector<T> items;
  std::string last_key;
};

class PushStore {
 public:
  static std::vector<ColumnFamily> ColumnFamilies();

  explicit PushStore(Database& db);

  absl::StatusOr<std::vector<v1::PushSubscription>> Subscriptions() const;
  void PutSubscription(const v1::PushSubscription& subscription, rocksdb::WriteBatch& batch) const;
  void DeleteSubscription(absl::string_view subscriber, rocksdb::WriteBatch& batch) const;

  // Dead letters, by subscriber then sequence; of one subscriber when
  // `subscriber` is not empty. Resumes after the key `after` ("" from the
  // start).
  absl::StatusOr<StoredPage<v1::DeadLetter>> DeadLetters(absl::string_view subscriber,
                                                         absl::string_view after, int limit) const;
  absl::StatusOr<int64_t> CountDeadLetters() const;
  void PutDeadLetter(const v1::DeadLetter& dead_letter, rocksdb::WriteBatch& batch) const;
  // Moves every listed dead letter to the redrive queue.
  void Redrive(const std::vector<v1::DeadLetter>& dead_letters, rocksdb::WriteBatch& batch) const;

  // The subscriber's redriven notifications, in sequence order.
  absl::StatusOr<std::vector<v1::Notification>> Redriven(absl::string_view subscriber,
                                                         int limit) const;
  void DeleteRedriven(const v1::Notification& notification, rocksdb::WriteBatch& batch) const;

  // The highest attempt id stored; 0 when there is none.
  absl::StatusOr<uint64_t> LastAttemptId() const;
  void PutAttempt(uint64_t id, const v1::DeliveryAttempt& attempt,
                  rocksdb::WriteBatch& batch) const;
  // Newest first, by subscriber or by event id, resuming after `after`.
  absl::StatusOr<StoredPage<v1::DeliveryAttempt>> AttemptsOfSubscriber(absl::string_view subscriber,
                                                                       absl::string_view after,
                                                                       int limit) const;
  absl::StatusOr<StoredPage<v1::DeliveryAttempt>> AttemptsOfEvent(absl::string_view event_id,
                                                                  absl::string_view after,
                                                                  int limit) const;
  // Deletes up to `limit` attempts made before `cutoff`, oldest first;
  // returns how many it deleted.
  absl::StatusOr<int64_t> DeleteAttemptsBefore(absl::Time cutoff, int limit,
                                               rocksdb::WriteBatch& batch) const;

 private:
  // Newest first from an attempt index, under the prefix "{name}\0".
  absl::StatusOr<StoredPage<v1::DeliveryAttempt>> AttemptsIn(rocksdb::ColumnFamilyHandle* index,
                                                             absl::string_view name,
                                                             absl::string_view after,
                                                             int limit) const;

  Database& db_;
  rocksdb::ColumnFamilyHandle* subscriptions_;
  rocksdb::ColumnFamilyHandle* dead_letters_;
  rocksdb::ColumnFamilyHandle* redrive_;
  rocksdb::ColumnFamilyHandle* attempts_;
  rocksdb::ColumnFamilyHandle* attempts_by_subscriber_;
  rocksdb::ColumnFamilyHandle* attempts_by_event_;
};

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_PUSH_STORE_H_
