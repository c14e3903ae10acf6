#include "services/notification/push_deliverer.h"

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backoff.h"
#include "common/channel.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/page_token.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/utf8.h"
#include "common/validation.h"
#include "services/notification/requests.h"

namespace switchboard::notification {
namespace {

// Notifications read from a log or the redrive queue at a time, per lane.
constexpr int kChunk = 64;
// Dead letters one RedriveDeadLetters call moves at most.
constexpr int kMaxRedrive = 10000;
// A receiver's status message is stored up to this many bytes.
constexpr size_t kMaxStoredMessageBytes = 1024;
// A lane that could not read its log tries again after this long.
constexpr absl::Duration kReadRetry = absl::Seconds(1);

std::string CodeName(grpc::StatusCode code) {
  return std::string(StatusCodeName(static_cast<absl::StatusCode>(code)));
}

// A receiver's message, cut to a bounded size at a character boundary; a
// message that is not UTF-8 cannot be stored in a proto3 string.
std::string StoredMessage(const std::string& message) {
  if (!IsValidUtf8(message)) return "(the receiver's message is not valid UTF-8)";
  if (message.size() <= kMaxStoredMessageBytes) return message;
  size_t end = kMaxStoredMessageBytes;
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
  return message.substr(0, end);
}

}  // namespace

// One subscriber's delivery state. Its fields are guarded by the deliverer's
// mu_ (the analysis cannot name another object's mutex here).
struct PushDeliverer::Lane final : LogWatcher {
  Lane(PushDeliverer& deliverer, const v1::PushSubscription& saved,
       const PushDeliverer::Options& options)
      : owner(deliverer),
        subscriber(saved.subscriber()),
        subscription(saved),
        stub(MakeStub(saved.endpoint(), options.credentials)),
        read_through(saved.delivered_sequence()),
        backoff({.initial = options.initial_backoff, .max = options.max_backoff}),
        durable_delivered(saved.delivered_sequence()) {}

  static std::shared_ptr<v1::NotificationReceiver::Stub> MakeStub(
      const std::string& endpoint, const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    // No retries inside gRPC: every attempt is ours to count and record.
    return v1::NotificationReceiver::NewStub(MakeServiceChannel(
        endpoint, credentials != nullptr ? credentials : grpc::InsecureChannelCredentials(),
        {v1::NotificationReceiver::service_full_name()}, {.max_attempts = 1}, /*connection=*/0,
        Peer::kExternal));
  }

  void OnAppended() override { owner.Woken(*this, /*redriven=*/false); }
  void OnShutdown() override {}

  PushDeliverer& owner;
  const std::string subscriber;
  v1::PushSubscription subscription;
  std::shared_ptr<v1::NotificationReceiver::Stub> stub;
  // Redriven dead letters still to send, and those sent whose removal from
  // the redrive queue is not durable yet (so a re-read skips them).
  std::deque<v1::Notification> redriven;
  absl::flat_hash_set<uint64_t> redriven_settling;
  bool redrive_news = true;
  // Log notifications read and not yet settled; the highest sequence read.
  std::deque<v1::Notification> chunk;
  uint64_t read_through;
  bool log_news = true;
  // A call is in flight, or its outcome is being written.
  bool busy = false;
  bool deleted = false;
  // Attempts made on the head of the redrive queue and on the head of the
  // log: a redrive may interrupt the log's head between its retries, and
  // each keeps its own count against max_attempts.
  int redrive_attempts = 0;
  int log_attempts = 0;
  ExponentialBackoff backoff;
  // No call before this reading of Clock::Monotonic() (a backoff is a
  // duration: a step of the wall clock must not stretch it).
  absl::Duration not_before = -absl::InfiniteDuration();
  // The delivered_sequence last made durable. When recording an attempt
  // fails (a full disk), what the lane did in memory since is not on disk:
  // a dead letter may be lost, the cursor behind. `stale` then makes the
  // lane drop outcomes still coming in and start again from what is durable,
  // repeating those deliveries (at least once, as documented).
  uint64_t durable_delivered;
  bool stale = false;
  // Bumped by each failed record: a record queued before a failure must not
  // move durable_delivered even if it was written.
  uint64_t epoch = 0;
};

// One Deliver call; owned by gRPC while in flight.
struct PushDeliverer::Call {
  std::shared_ptr<Lane> lane;
  std::shared_ptr<v1::NotificationReceiver::Stub> stub;
  grpc::ClientContext context;
  v1::Notification notification;
  v1::DeliverResponse response;
  bool redriven = false;
  int attempt = 0;
  absl::Time start;
};

PushDeliverer::PushDeliverer(NotificationCore& core, LogStore& logs, PushStore& store,
                             CommitQueue& commits, NotificationMetrics& metrics, Clock& clock,
                             Options options)
    : core_(core),
      logs_(logs),
      store_(store),
      commits_(commits),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)) {}

PushDeliverer::~PushDeliverer() { Stop(); }

absl::Status PushDeliverer::Start() {
  ASSIGN_OR_RETURN(const uint64_t last_attempt_id, store_.LastAttemptId());
  ASSIGN_OR_RETURN(const int64_t dead_letters, store_.CountDeadLetters());
  ASSIGN_OR_RETURN(const std::vector<v1::PushSubscription> subscriptions, store_.Subscriptions());
  std::vector<std::shared_ptr<Lane>> lanes;
  {
    MutexLock lock(mu_);
    last_attempt_id_ = last_attempt_id;
    for (const v1::PushSubscription& subscription : subscriptions)
      lanes.push_back(NewLane(subscription));
  }
  metrics_.dead_letters.Set(static_cast<double>(dead_letters));
  metrics_.push_subscriptions.Set(static_cast<double>(subscriptions.size()));
  for (const std::shared_ptr<Lane>& lane : lanes) core_.Watch(lane->subscriber, lane.get());
  log::Info("push delivery started", {{"subscriptions", static_cast<int64_t>(lanes.size())},
                                      {"dead_letters", dead_letters}});
  scheduler_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void PushDeliverer::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    WakeLocked();
  }
  if (scheduler_.joinable()) scheduler_.join();
  std::vector<std::shared_ptr<Lane>> lanes;
  {
    MutexLock lock(mu_);
    for (Call* call : in_flight_) call->context.TryCancel();
    // Calls end, and their attempts are recorded, before this returns.
    while (!in_flight_.empty() || recording_ > 0) drained_.Wait(mu_);
    for (auto& [subscriber, lane] : lanes_) lanes.push_back(lane);
  }
  for (const std::shared_ptr<Lane>& lane : lanes) core_.Unwatch(lane->subscriber, lane.get());
}

std::shared_ptr<PushDeliverer::Lane> PushDeliverer::NewLane(
    const v1::PushSubscription& subscription) {
  auto lane = std::make_shared<Lane>(*this, subscription, options_);
  lanes_[subscription.subscriber()] = lane;
  WakeLocked();
  return lane;
}

void PushDeliverer::WakeLocked() {
  wake_ = true;
  cv_.Signal();
}

void PushDeliverer::Woken(Lane& lane, bool redriven) {
  MutexLock lock(mu_);
  (redriven ? lane.redrive_news : lane.log_news) = true;
  WakeLocked();
}

void PushDeliverer::Run() {
  for (;;) {
    std::vector<std::unique_ptr<Call>> ready;
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      wake_ = false;
      const absl::Time now = clock_.Now();
      const absl::Duration monotonic = clock_.Monotonic();
      absl::Duration next = absl::InfiniteDuration();
      for (auto& [subscriber, lane] : lanes_) {
        if (lane->busy) continue;
        if (lane->not_before <= monotonic) {
          if (const v1::Notification* head = NextLocked(*lane); head != nullptr) {
            auto call = std::make_unique<Call>();
            call->lane = lane;
            call->stub = lane->stub;
            call->notification = *head;
            call->redriven = !lane->redriven.empty();
            call->attempt = ++(call->redriven ? lane->redrive_attempts : lane->log_attempts);
            call->start = now;
            lane->busy = true;
            in_flight_.insert(call.get());
            ready.push_back(std::move(call));
            continue;
          }
        }
        if (lane->not_before > monotonic) next = std::min(next, lane->not_before);
      }
      if (ready.empty()) {
        clock_.AwaitFor(mu_, cv_, wake_, next - monotonic);
        continue;
      }
    }
    for (std::unique_ptr<Call>& call : ready) Send(std::move(call));
  }
}

const v1::Notification* PushDeliverer::NextLocked(Lane& lane) {
  if (lane.stale) {
    lane.stale = false;
    lane.chunk.clear();
    lane.read_through = lane.durable_delivered;
    lane.subscription.set_delivered_sequence(lane.durable_delivered);
    lane.log_news = true;
    lane.log_attempts = 0;
    lane.redriven.clear();
    lane.redrive_news = true;
    lane.redrive_attempts = 0;
    log::Info("push lane starts again from what is durable",
              {{"subscriber", lane.subscriber}, {"delivered_sequence", lane.durable_delivered}});
  }
  if (lane.redriven.empty() && lane.redrive_news) {
    lane.redrive_news = false;
    absl::StatusOr<std::vector<v1::Notification>> read = store_.Redriven(lane.subscriber, kChunk);
    if (!read.ok()) {
      log::Error("cannot read the redrive queue",
                 {{"subscriber", lane.subscriber}, {"error", read.status().ToString()}});
      lane.redrive_news = true;
      lane.not_before = clock_.Monotonic() + kReadRetry;
      return nullptr;
    }
    for (v1::Notification& notification : *read) {
      if (!lane.redriven_settling.contains(notification.sequence()))
        lane.redriven.push_back(std::move(notification));
    }
    if (static_cast<int>(read->size()) == kChunk) lane.redrive_news = true;
  }
  if (!lane.redriven.empty()) return &lane.redriven.front();

  if (lane.chunk.empty() && lane.log_news) {
    lane.log_news = false;
    absl::StatusOr<std::vector<v1::Notification>> read =
        logs_.ReadAfter(lane.subscriber, lane.read_through, kChunk);
    if (!read.ok()) {
      log::Error("cannot read a log",
                 {{"subscriber", lane.subscriber}, {"error", read.status().ToString()}});
      lane.log_news = true;
      lane.not_before = clock_.Monotonic() + kReadRetry;
      return nullptr;
    }
    for (v1::Notification& notification : *read) {
      lane.read_through = notification.sequence();
      lane.chunk.push_back(std::move(notification));
    }
    if (static_cast<int>(read->size()) == kChunk) lane.log_news = true;
  }
  return lane.chunk.empty() ? nullptr : &lane.chunk.front();
}

void PushDeliverer::Send(std::unique_ptr<Call> call) {
  Call* raw = call.release();  // until Completed
  SetTimeout(raw->context, options_.timeout);
  raw->stub->async()->Deliver(
      &raw->context, &raw->notification, &raw->response,
      [this, raw](const grpc::Status& status) { Completed(std::unique_ptr<Call>(raw), status); });
}

void PushDeliverer::Completed(std::unique_ptr<Call> call, const grpc::Status& status) {
  const absl::Time now = clock_.Now();
  Lane& lane = *call->lane;
  const v1::Notification& notification = call->notification;
  {
    MutexLock lock(mu_);
    if ((stopping_ && status.error_code() == grpc::StatusCode::CANCELLED) || lane.stale) {
      // Our own shutdown cancelled it: not the receiver's failure, and not
      // an attempt to count. The next start sends it again. Or the lane is
      // starting again from what is durable, and sends it again.
      lane.busy = false;
      WakeLocked();
      FinishCallLocked(std::move(call));
      return;
    }
  }
  rocksdb::WriteBatch batch;
  uint64_t cursor = 0;
  {
    // Serialises this lane's writes with every other push write (see Delete).
    MutexLock write(write_mu_);
    bool dropped = false;
    uint64_t epoch = 0;
    {
      MutexLock lock(mu_);
      // A record may have failed since the check above. One that fails
      // between here and the commit below is caught by the epoch instead.
      dropped = lane.stale;
      epoch = lane.epoch;
    }
    if (!dropped) {
      MutexLock lock(mu_);
      v1::DeliveryAttempt attempt;
      attempt.set_subscriber(lane.subscriber);
      attempt.set_sequence(notification.sequence());
      attempt.set_event_id(notification.event().id());
      attempt.set_attempt(call->attempt);
      *attempt.mutable_time() = ToProtoTime(call->start);
      attempt.set_code(CodeName(status.error_code()));
      attempt.set_message(StoredMessage(status.error_message()));
      bool settled = true;
      if (status.ok()) {
        attempt.set_outcome(v1::ATTEMPT_OUTCOME_DELIVERED);
        metrics_.push_attempts.Add({{"outcome", "delivered"}}).Increment();
        metrics_.delivered.Add({{"mode", "push"}}).Increment();
        metrics_.delivery_lag.Add({{"mode", "push"}}, LatencyBuckets())
            .Observe(absl::ToDoubleSeconds(now - FromProtoTime(notification.publish_time())));
      } else {
        metrics_.push_failures.Add({{"code", attempt.code()}}).Increment();
        if (call->attempt >= options_.max_attempts) {
          attempt.set_outcome(v1::ATTEMPT_OUTCOME_DEAD_LETTERED);
          metrics_.push_attempts.Add({{"outcome", "dead_lettered"}}).Increment();
          v1::DeadLetter dead_letter;
          *dead_letter.mutable_notification() = notification;
          dead_letter.set_attempts(call->attempt);
          dead_letter.set_last_code(attempt.code());
          dead_letter.set_last_message(attempt.message());
          *dead_letter.mutable_dead_letter_time() = ToProtoTime(now);
          store_.PutDeadLetter(dead_letter, batch);
          metrics_.dead_lettered.Increment();
          metrics_.dead_letters.Increment();
          log::Warning("push dead-lettered", {{"subscriber", lane.subscriber},
                                              {"sequence", notification.sequence()},
                                              {"attempts", call->attempt},
                                              {"code", attempt.code()}});
        } else {
          attempt.set_outcome(v1::ATTEMPT_OUTCOME_FAILED);
          metrics_.push_attempts.Add({{"outcome", "failed"}}).Increment();
          lane.not_before = clock_.Monotonic() + lane.backoff.Next();
          settled = false;
        }
      }
      store_.PutAttempt(++last_attempt_id_, attempt, batch);
      if (settled) {
        (call->redriven ? lane.redrive_attempts : lane.log_attempts) = 0;
        lane.backoff.Reset();
        lane.not_before = -absl::InfiniteDuration();
        if (call->redriven) {
          lane.redriven.pop_front();
          lane.redriven_settling.insert(notification.sequence());
          store_.DeleteRedriven(notification, batch);
        } else {
          lane.chunk.pop_front();
          if (!lane.deleted) {
            lane.subscription.set_delivered_sequence(notification.sequence());
            store_.PutSubscription(lane.subscription, batch);
            cursor = notification.sequence();
          }
        }
      }
      ++recording_;
    }
    const uint64_t redriven = call->redriven ? notification.sequence() : 0;
    if (!dropped) {
      core_.CommitWithCursor(
          lane.subscriber, cursor, std::move(batch),
          [this, lane = call->lane, redriven, cursor, epoch](const absl::Status& written) {
            MutexLock lock(mu_);
            if (written.ok()) {
              // Only records queued since the last failure count: one queued
              // before it may have been written, but the lane has gone back.
              if (epoch == lane->epoch) {
                lane->durable_delivered = std::max(lane->durable_delivered, cursor);
              }
            } else {
              if (!lane->stale) {
                log::Error(
                    "cannot record a push attempt; the lane starts again from what is durable",
                    {{"subscriber", lane->subscriber}, {"error", written.ToString()}});
              }
              lane->stale = true;
              ++lane->epoch;
              // Backs off as a failing receiver does: while the disk is
              // full, each retry repeats deliveries.
              lane->not_before = clock_.Monotonic() + lane->backoff.Next();
              WakeLocked();
            }
            if (redriven != 0) lane->redriven_settling.erase(redriven);
            --recording_;
            SignalIfDrainedLocked();
          });
    }
  }
  MutexLock lock(mu_);
  lane.busy = false;
  WakeLocked();
  FinishCallLocked(std::move(call));
}

void PushDeliverer::FinishCallLocked(std::unique_ptr<Call> call) {
  in_flight_.erase(call.get());
  call.reset();
  SignalIfDrainedLocked();
}

void PushDeliverer::SignalIfDrainedLocked() {
  // Stop() may destroy this deliverer as soon as it sees this: the caller
  // must not touch any member after releasing mu_.
  if (in_flight_.empty() && recording_ == 0) drained_.SignalAll();
}

void PushDeliverer::CreateSubscription(const v1::CreatePushSubscriptionRequest& request,
                                       Done<v1::PushSubscription> done) {
  const v1::PushSubscription& wanted = request.subscription();
  if (absl::Status invalid = ValidateCreatePushSubscriptionRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  absl::StatusOr<uint64_t> cursor = core_.AcknowledgedCursor(wanted.subscriber());
  if (!cursor.ok()) {
    std::move(done)(cursor.status());
    return;
  }
  v1::PushSubscription subscription;
  subscription.set_subscriber(wanted.subscriber());
  subscription.set_endpoint(wanted.endpoint());
  *subscription.mutable_create_time() = ToProtoTime(clock_.Now());
  std::shared_ptr<Lane> created;
  rocksdb::WriteBatch batch;
  MutexLock write(write_mu_);
  {
    MutexLock lock(mu_);
    auto it = lanes_.find(subscription.subscriber());
    if (it != lanes_.end()) {
      // Replaces the endpoint; delivery carries on where it was. What is
      // stored is the position known durable: records still in flight may
      // yet fail.
      Lane& lane = *it->second;
      subscription.set_delivered_sequence(lane.durable_delivered);
      if (lane.subscription.endpoint() != subscription.endpoint())
        lane.stub = Lane::MakeStub(subscription.endpoint(), options_.credentials);
      lane.subscription = subscription;
    } else {
      // A new subscription starts after what was acknowledged.
      subscription.set_delivered_sequence(*cursor);
      created = NewLane(subscription);
      metrics_.push_subscriptions.Increment();
    }
    store_.PutSubscription(subscription, batch);
  }
  if (created != nullptr) core_.Watch(created->subscriber, created.get());
  commits_.Commit(std::move(batch),
                  [subscription, done = std::move(done)](const absl::Status& status) mutable {
                    if (!status.ok()) {
                      std::move(done)(status);
                      return;
                    }
                    log::Info("push subscription saved", {{"subscriber", subscription.subscriber()},
                                                          {"endpoint", subscription.endpoint()}});
                    std::move(done)(std::move(subscription));
                  });
}

absl::StatusOr<v1::ListPushSubscriptionsResponse> PushDeliverer::ListSubscriptions(
    const v1::ListPushSubscriptionsRequest& request) const {
  ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size(), 100, 1000));
  std::string after;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(after, DecodePageToken(request.page_token(), "push_subscriptions", ""));
  }
  v1::ListPushSubscriptionsResponse response;
  MutexLock lock(mu_);
  for (auto it = lanes_.upper_bound(after); it != lanes_.end(); ++it) {
    if (response.subscriptions_size() == page_size) {
      response.set_next_page_token(EncodePageToken(
          "push_subscriptions", "", response.subscriptions().rbegin()->subscriber()));
      break;
    }
    *response.add_subscriptions() = it->second->subscription;
  }
  return response;
}

void PushDeliverer::DeleteSubscription(const v1::DeletePushSubscriptionRequest& request,
                                       Done<v1::DeletePushSubscriptionResponse> done) {
  if (absl::Status invalid = ValidateDeletePushSubscriptionRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  std::shared_ptr<Lane> lane;
  rocksdb::WriteBatch batch;
  MutexLock write(write_mu_);
  {
    MutexLock lock(mu_);
    auto it = lanes_.find(request.subscriber());
    if (it == lanes_.end()) {
      std::move(done)(
          absl::NotFoundError(absl::StrCat(request.subscriber(), " has no push subscription")));
      return;
    }
    lane = std::move(it->second);
    lanes_.erase(it);
    // A call in flight still records its attempt, but no longer writes the
    // subscription back.
    lane->deleted = true;
    metrics_.push_subscriptions.Decrement();
    store_.DeleteSubscription(request.subscriber(), batch);
  }
  core_.Unwatch(lane->subscriber, lane.get());
  commits_.Commit(std::move(batch), [subscriber = lane->subscriber,
                                     done = std::move(done)](const absl::Status& status) mutable {
    if (!status.ok()) {
      std::move(done)(status);
      return;
    }
    log::Info("push subscription deleted", {{"subscriber", subscriber}});
    std::move(done)(v1::DeletePushSubscriptionResponse());
  });
}

absl::StatusOr<v1::ListDeadLettersResponse> PushDeliverer::ListDeadLetters(
    const v1::ListDeadLettersRequest& request) const {
  RETURN_IF_ERROR(ValidateListDeadLettersRequest(request));
  ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size(), 100, 1000));
  std::string after;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(after,
                     DecodePageToken(request.page_token(), "dead_letters", request.subscriber()));
  }
  ASSIGN_OR_RETURN(StoredPage<v1::DeadLetter> page,
                   store_.DeadLetters(request.subscriber(), after, page_size));
  v1::ListDeadLettersResponse response;
  for (v1::DeadLetter& dead_letter : page.items)
    *response.add_dead_letters() = std::move(dead_letter);
  if (!page.last_key.empty()) {
    response.set_next_page_token(
        EncodePageToken("dead_letters", request.subscriber(), page.last_key));
  }
  return response;
}

void PushDeliverer::RedriveDeadLetters(const v1::RedriveDeadLettersRequest& request,
                                       Done<v1::RedriveDeadLettersResponse> done) {
  if (absl::Status invalid = ValidateRedriveDeadLettersRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  MutexLock write(write_mu_);
  std::vector<v1::DeadLetter> moving;
  std::vector<std::string> keys;
  std::string after;
  do {
    absl::StatusOr<StoredPage<v1::DeadLetter>> page =
        store_.DeadLetters(request.subscriber(), after, 1000);
    if (!page.ok()) {
      std::move(done)(page.status());
      return;
    }
    MutexLock lock(mu_);
    for (v1::DeadLetter& dead_letter : page->items) {
      if (static_cast<int>(moving.size()) == kMaxRedrive) break;
      std::string key = SequenceKey(dead_letter.notification().subscriber(),
                                    dead_letter.notification().sequence());
      if (!redriving_.insert(key).second) continue;  // another redrive is moving it
      keys.push_back(std::move(key));
      moving.push_back(std::move(dead_letter));
    }
    after = page->last_key;
  } while (!after.empty() && static_cast<int>(moving.size()) < kMaxRedrive);
  rocksdb::WriteBatch batch;
  store_.Redrive(moving, batch);
  absl::flat_hash_set<std::string> subscribers;
  for (const v1::DeadLetter& dead_letter : moving)
    subscribers.insert(dead_letter.notification().subscriber());
  const auto count = static_cast<int64_t>(moving.size());
  commits_.Commit(std::move(batch),
                  [this, keys = std::move(keys), subscribers = std::move(subscribers), count,
                   done = std::move(done)](const absl::Status& status) mutable {
                    {
                      MutexLock lock(mu_);
                      for (const std::string& key : keys) redriving_.erase(key);
                      if (status.ok()) {
                        for (const std::string& subscriber : subscribers) {
                          auto it = lanes_.find(subscriber);
                          if (it != lanes_.end()) it->second->redrive_news = true;
                        }
                        WakeLocked();
                      }
                    }
                    if (!status.ok()) {
                      std::move(done)(status);
                      return;
                    }
                    metrics_.redriven.Increment(static_cast<double>(count));
                    metrics_.dead_letters.Decrement(static_cast<double>(count));
                    if (count > 0) log::Info("dead letters redriven", {{"count", count}});
                    v1::RedriveDeadLettersResponse response;
                    response.set_redriven(count);
                    std::move(done)(response);
                  });
}

absl::StatusOr<v1::ListDeliveryAttemptsResponse> PushDeliverer::ListDeliveryAttempts(
    const v1::ListDeliveryAttemptsRequest& request) const {
  RETURN_IF_ERROR(ValidateListDeliveryAttemptsRequest(request));
  ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size(), 100, 1000));
  const std::string query = absl::StrCat(request.subscriber(), "\n", request.event_id());
  std::string after;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(after, DecodePageToken(request.page_token(), "delivery_attempts", query));
  }
  v1::ListDeliveryAttemptsResponse response;
  if (request.event_id().empty()) {
    ASSIGN_OR_RETURN(StoredPage<v1::DeliveryAttempt> page,
                     store_.AttemptsOfSubscriber(request.subscriber(), after, page_size));
    for (v1::DeliveryAttempt& attempt : page.items) *response.add_attempts() = std::move(attempt);
    after = page.last_key;
  } else {
    // By event, narrowed to one subscriber if asked: an event reaches a
    // handful of subscribers, so filtering its attempts is cheap.
    do {
      ASSIGN_OR_RETURN(
          StoredPage<v1::DeliveryAttempt> page,
          store_.AttemptsOfEvent(request.event_id(), after, page_size - response.attempts_size()));
      for (v1::DeliveryAttempt& attempt : page.items) {
        if (request.subscriber().empty() || attempt.subscriber() == request.subscriber())
          *response.add_attempts() = std::move(attempt);
      }
      after = page.last_key;
    } while (!after.empty() && response.attempts_size() < page_size);
  }
  if (!after.empty())
    response.set_next_page_token(EncodePageToken("delivery_attempts", query, after));
  return response;
}

}  // namespace switchboard::notification
