// Push delivery: each subscriber with a push subscription has a lane that
// sends its log, one notification at a time and in sequence order, to the
// subscriber's NotificationReceiver with a deadline. A failed attempt is
// retried after an exponential backoff with full jitter; after
// `max_attempts` the notification is dead-lettered and the lane goes on.
// Redriven dead letters are sent first, in sequence order, then the log.
//
// Every attempt is recorded. A lane's progress (the subscription's
// delivered_sequence) and the subscriber's acknowledged cursor move together
// with each delivered or dead-lettered notification, through the commit
// queue but without waiting for it: after a crash a receiver may see the last
// few notifications again, which it recognises by (subscriber, sequence).
//
// One scheduler thread decides what to send; the calls themselves are
// asynchronous, so a slow receiver holds up only its own lane.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_PUSH_DELIVERER_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_PUSH_DELIVERER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/security/credentials.h>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/sync.h"
#include "services/notification/log_store.h"
#include "services/notification/notification_core.h"
#include "services/notification/push_store.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard::notification {

class PushDeliverer {
 public:
  struct Options {
    // Deadline of each Deliver call.
    absl::Duration timeout = absl::Seconds(5);
    // Backoff between attempts of one notification: the n-th retry waits a
    // random time in [0, min(max_backoff, initial_backoff * 2^n)].
    absl::Duration initial_backoff = absl::Milliseconds(200);
    absl::Duration max_backoff = absl::Minutes(1);
    // Attempts of one notification before it is dead-lettered.
    int max_attempts = 8;
    // How receivers are called (common/security.h); null: plaintext.
    std::shared_ptr<grpc::ChannelCredentials> credentials;
  };

  template <typename T>
  using Done = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

  PushDeliverer(NotificationCore& core, LogStore& logs, PushStore& store, CommitQueue& commits,
                NotificationMetrics& metrics, Clock& clock, Options options);

  // Stop()s.
  ~PushDeliverer();

  PushDeliverer(const PushDeliverer&) = delete;
  PushDeliverer& operator=(const PushDeliverer&) = delete;

  // Loads the stored subscriptions and starts delivering.
  absl::Status Start();

  // Stops the scheduler, cancels the calls in flight and waits for them.
  // Idempotent. The commit queue must still be running.
  void Stop();

  // The RPCs. Writes complete `done` once durable.
  void CreateSubscription(const v1::CreatePushSubscriptionRequest& request,
                          Done<v1::PushSubscription> done);
  absl::StatusOr<v1::ListPushSubscriptionsResponse> ListSubscriptions(
      const v1::ListPushSubscriptionsRequest& request) const;
  void DeleteSubscription(const v1::DeletePushSubscriptionRequest& request,
                          Done<v1::DeletePushSubscriptionResponse> done);
  absl::StatusOr<v1::ListDeadLettersResponse> ListDeadLetters(
      const v1::ListDeadLettersRequest& request) const;
  void RedriveDeadLetters(const v1::RedriveDeadLettersRequest& request,
                          Done<v1::RedriveDeadLettersResponse> done);
  absl::StatusOr<v1::ListDeliveryAttemptsResponse> ListDeliveryAttempts(
      const v1::ListDeliveryAttemptsRequest& request) const;

 private:
  struct Lane;
  struct Call;

  void Run();
  // Picks the lane's next notification, reading the redrive queue and the
  // log as needed; null when it has nothing to send.
  const v1::Notification* NextLocked(Lane& lane) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(std::unique_ptr<Call> call);
  void Completed(std::unique_ptr<Call> call, const grpc::Status& status);
  // Forgets a finished call. Stop() may return, and *this go, as soon as
  // the caller releases mu_.
  void FinishCallLocked(std::unique_ptr<Call> call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SignalIfDrainedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<Lane> NewLane(const v1::PushSubscription& subscription)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Woken(Lane& lane, bool redriven);

  NotificationCore& core_;
  LogStore& logs_;
  PushStore& store_;
  CommitQueue& commits_;
  NotificationMetrics& metrics_;
  Clock& clock_;
  const Options options_;

  // Held while a write is decided and queued, so that push writes reach the
  // commit queue in the order their decisions were made (a lane's progress
  // never overtakes its subscription's deletion). Taken before mu_; never
  // taken in commit callbacks.
  Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;
  CondVar cv_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::shared_ptr<Lane>> lanes_ ABSL_GUARDED_BY(mu_);
  uint64_t last_attempt_id_ ABSL_GUARDED_BY(mu_) = 0;
  // Dead-letter keys being moved to the redrive queue, not yet durable.
  absl::flat_hash_set<std::string> redriving_ ABSL_GUARDED_BY(mu_);
  // Calls started and not yet completed; Stop() cancels them.
  absl::flat_hash_set<Call*> in_flight_ ABSL_GUARDED_BY(mu_);
  // Attempts whose batch is queued but whose commit callback has not run.
  int recording_ ABSL_GUARDED_BY(mu_) = 0;
  CondVar drained_;
  std::thread scheduler_;
};

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_PUSH_DELIVERER_H_
