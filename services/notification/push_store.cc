#include "services/notification/push_store.h"

#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/notification/log_store.h"

namespace switchboard::notification {
namespace {

constexpr char kSubscriptions[] = "push_subscriptions";
constexpr char kDeadLetters[] = "dead_letters";
constexpr char kRedrive[] = "redrive";
constexpr char kAttempts[] = "attempts";
constexpr char kAttemptsBySubscriber[] = "attempts_by_subscriber";
constexpr char kAttemptsByEvent[] = "attempts_by_event";

// "{name}\0" + fixed64 ~id: newest first within a prefix scan.
std::string NewestFirstKey(absl::string_view name, uint64_t id) {
  std::string key = SubscriberPrefix(name);
  AppendFixed64BigEndian(~id, key);
  return key;
}

}  // namespace

std::vector<ColumnFamily> PushStore::ColumnFamilies() {
  return {kSubscriptions, kDeadLetters,          kRedrive,
          {kAttempts, 8}, kAttemptsBySubscriber, kAttemptsByEvent};
}

PushStore::PushStore(Database& db)
    : db_(db),
      subscriptions_(db.Family(kSubscriptions)),
      dead_letters_(db.Family(kDeadLetters)),
      redrive_(db.Family(kRedrive)),
      attempts_(db.Family(kAttempts)),
      attempts_by_subscriber_(db.Family(kAttemptsBySubscriber)),
      attempts_by_event_(db.Family(kAttemptsByEvent)) {}

absl::StatusOr<std::vector<v1::PushSubscription>> PushStore::Subscriptions() const {
  std::string unused;
  return ScanPrefix<v1::PushSubscription>(db_.db(), subscriptions_, "", "",
                                          std::numeric_limits<int>::max(), &unused);
}

void PushStore::PutSubscription(const v1::PushSubscription& subscription,
                                rocksdb::WriteBatch& batch) const {
  batch.Put(subscriptions_, subscription.subscriber(), subscription.SerializeAsString());
}

void PushStore::DeleteSubscription(absl::string_view subscriber, rocksdb::WriteBatch& batch) const {
  batch.Delete(subscriptions_, rocksdb::Slice(subscriber.data(), subscriber.size()));
}

absl::StatusOr<StoredPage<v1::DeadLetter>> PushStore::DeadLetters(absl::string_view subscriber,
                                                                  absl::string_view after,
                                                                  int limit) const {
  StoredPage<v1::DeadLetter> page;
  const std::string prefix = subscriber.empty() ? "" : SubscriberPrefix(subscriber);
  ASSIGN_OR_RETURN(page.items, ScanPrefix<v1::DeadLetter>(db_.db(), dead_letters_, prefix, after,
                                                          limit, &page.last_key));
  return page;
}

absl::StatusOr<int64_t> PushStore::CountDeadLetters() const {
  int64_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, dead_letters_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  RETURN_IF_ERROR(FromRocks(it->status(), "count dead letters"));
  return count;
}

void PushStore::PutDeadLetter(const v1::DeadLetter& dead_letter, rocksdb::WriteBatch& batch) const {
  const v1::Notification& notification = dead_letter.notification();
  batch.Put(dead_letters_, SequenceKey(notification.subscriber(), notification.sequence()),
            dead_letter.SerializeAsString());
}

void PushStore::Redrive(const std::vector<v1::DeadLetter>& dead_letters,
                        rocksdb::WriteBatch& batch) const {
  for (const v1::DeadLetter& dead_letter : dead_letters) {
    const v1::Notification& notification = dead_letter.notification();
    const std::string key = SequenceKey(notification.subscriber(), notification.sequence());
    batch.Delete(dead_letters_, key);
    batch.Put(redrive_, key, notification.SerializeAsString());
  }
}

absl::StatusOr<std::vector<v1::Notification>> PushStore::Redriven(absl::string_view subscriber,
                                                                  int limit) const {
  std::string unused;
  return ScanPrefix<v1::Notification>(db_.db(), redrive_, SubscriberPrefix(subscriber), "", limit,
                                      &unused);
}

void PushStore::DeleteRedriven(const v1::Notification& notification,
                               rocksdb::WriteBatch& batch) const {
  batch.Delete(redrive_, SequenceKey(notification.subscriber(), notification.sequence()));
}

absl::StatusOr<uint64_t> PushStore::LastAttemptId() const {
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, attempts_));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "read attempts"));
  if (!it->Valid()) return 0;
  uint64_t id;
  if (!DecodeFixed64BigEndian(absl::string_view(it->key().data(), it->key().size()), &id))
    return absl::DataLossError("an attempt key is corrupt");
  return id;
}

void PushStore::PutAttempt(uint64_t id, const v1::DeliveryAttempt& attempt,
                           rocksdb::WriteBatch& batch) const {
  const std::string value = attempt.SerializeAsString();
  batch.Put(attempts_, EncodeFixed64BigEndian(id), value);
  batch.Put(attempts_by_subscriber_, NewestFirstKey(attempt.subscriber(), id), value);
  batch.Put(attempts_by_event_, NewestFirstKey(attempt.event_id(), id), value);
}

absl::StatusOr<StoredPage<v1::DeliveryAttempt>> PushStore::AttemptsOfSubscriber(
    absl::string_view subscriber, absl::string_view after, int limit) const {
  return AttemptsIn(attempts_by_subscriber_, subscriber, after, limit);
}

absl::StatusOr<StoredPage<v1::DeliveryAttempt>> PushStore::AttemptsOfEvent(
    absl::string_view event_id, absl::string_view after, int limit) const {
  return AttemptsIn(attempts_by_event_, event_id, after, limit);
}

absl::StatusOr<StoredPage<v1::DeliveryAttempt>> PushStore::AttemptsIn(
    rocksdb::ColumnFamilyHandle* index, absl::string_view name, absl::string_view after,
    int limit) const {
  StoredPage<v1::DeliveryAttempt> page;
  ASSIGN_OR_RETURN(page.items,
                   ScanPrefix<v1::DeliveryAttempt>(db_.db(), index, SubscriberPrefix(name), after,
                                                   limit, &page.last_key));
  return page;
}

absl::StatusOr<int64_t> PushStore::DeleteAttemptsBefore(absl::Time cutoff, int limit,
                                                        rocksdb::WriteBatch& batch) const {
  int64_t deleted = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator({}, attempts_));
  for (it->SeekToFirst(); it->Valid() && deleted < limit; it->Next()) {
    uint64_t id;
    v1::DeliveryAttempt attempt;
    if (!DecodeFixed64BigEndian(absl::string_view(it->key().data(), it->key().size()), &id) ||
        !attempt.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored delivery attempt is corrupt");
    }
    if (FromProtoTime(attempt.time()) >= cutoff) break;
    batch.Delete(attempts_, it->key());
    batch.Delete(attempts_by_subscriber_, NewestFirstKey(attempt.subscriber(), id));
    batch.Delete(attempts_by_event_, NewestFirstKey(attempt.event_id(), id));
    ++deleted;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read attempts"));
  return deleted;
}

}  // namespace switchboard::notification
