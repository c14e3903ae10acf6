#include "services/notification/notification_service.h"

#include <deque>
#include <memory>

#include <grpcpp/alarm.h>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "absl/strings/str_cat.h"
#include "common/handler.h"
#include "common/metrics.h"
#include "common/partition.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/sync.h"
#include "services/notification/access.h"
#include "services/notification/requests.h"

namespace switchboard::notification {
namespace {

constexpr int kChunk = 64;

constexpr char kPublish[] = "/switchboard.notification.v1.NotificationService/Publish";
constexpr char kSubscribe[] = "/switchboard.notification.v1.NotificationService/Subscribe";
constexpr char kAcknowledge[] =
    "/switchboard.notification.v1.NotificationService/AcknowledgeNotifications";
constexpr char kListNotifications[] =
    "/switchboard.notification.v1.NotificationService/ListNotifications";
constexpr char kCreatePush[] =
    "/switchboard.notification.v1.NotificationService/CreatePushSubscription";
constexpr char kListPush[] =
    "/switchboard.notification.v1.NotificationService/ListPushSubscriptions";
constexpr char kDeletePush[] =
    "/switchboard.notification.v1.NotificationService/DeletePushSubscription";
constexpr char kListDeadLetters[] =
    "/switchboard.notification.v1.NotificationService/ListDeadLetters";
constexpr char kRedrive[] = "/switchboard.notification.v1.NotificationService/RedriveDeadLetters";
constexpr char kListAttempts[] =
    "/switchboard.notification.v1.NotificationService/ListDeliveryAttempts";

int Partitions(const PartitionPeers* peers) { return peers == nullptr ? 1 : peers->count(); }

// Adds up what several partitions answered (events appended, dead letters
// redriven), and calls `finish` once every one has: with the first error,
// else OK and the total.
class Tally {
 public:
  using Finish = absl::AnyInvocable<void(const grpc::Status&, int64_t) &&>;

  static std::shared_ptr<Tally> Of(int parts, Finish finish) {
    return std::make_shared<Tally>(parts, std::move(finish));
  }

  Tally(int parts, Finish finish) : waiting_(parts), finish_(std::move(finish)) {}

  void Add(const grpc::Status& status, int64_t count) {
    grpc::Status error;
    int64_t total = 0;
    {
      MutexLock lock(mu_);
      if (!status.ok() && error_.ok()) error_ = status;
      total_ += count;
      if (--waiting_ > 0) return;
      error = error_;
      total = total_;
    }
    std::move(finish_)(error, total);
  }

 private:
  Mutex mu_;
  int waiting_ ABSL_GUARDED_BY(mu_);
  int64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status error_ ABSL_GUARDED_BY(mu_);
  Finish finish_;
};

// Calls `method` with `request` on `partition`, asking it to answer for
// itself, and adds `count(response)` of its answer to `tally`.
template <typename Response, typename Request, typename Count>
void CallInto(PartitionPeers& peers, int partition, const char* method,
              grpc::CallbackServerContext* context, const Caller& caller, const Request& request,
              const std::shared_ptr<Tally>& tally, Count count) {
  peers.Call(
      partition, method, context, caller, ToByteBuffer(request),
      [tally, count](const grpc::Status& status, const grpc::ByteBuffer& bytes) {
        Response response;
        if (status.ok() && !ParseMessage(bytes, &response).ok()) {
          return tally->Add(
              grpc::Status(grpc::StatusCode::INTERNAL, "a partition's answer does not parse"), 0);
        }
        tally->Add(status, status.ok() ? count(response) : 0);
      },
      {{kPartitionOnlyMetadata, "1"}});
}

// The partition of a call about one subscriber; -1 (here) for one that
// names none, or an invalid one, which is refused here.
struct BySubscriber {
  int count;
  int operator()(const std::string& subscriber) const {
    return subscriber.empty() ? -1 : PartitionOf(subscriber, count);
  }
  template <typename Request>
  int operator()(const Request& request) const {
    return (*this)(request.subscriber());
  }
};

// One Subscribe stream; deletes itself when gRPC is done with it.
class SubscribeStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer>, public LogWatcher {
 public:
  SubscribeStream(NotificationCore& core, std::string subscriber, uint64_t after, StreamSlot slot)
      : core_(core), subscriber_(std::move(subscriber)), after_(after), slot_(std::move(slot)) {
    core_.metrics().open_streams.Increment();
    core_.Watch(subscriber_, this);
    MutexLock lock(mu_);
    PumpLocked();
  }

  // Called on the commit thread under the core's watchers' lock: only
  // schedules a turn of this stream (a callback alarm, run on a gRPC thread),
  // which reads the log.
  void OnAppended() override {
    MutexLock lock(mu_);
    if (finished_ || writing_ || scheduled_) return;  // OnWriteDone reads on
    scheduled_ = true;
    wakeup_.Set(gpr_now(GPR_CLOCK_MONOTONIC), [this](bool) { Woken(); });
  }

  void OnShutdown() override {
    MutexLock lock(mu_);
    FinishLocked(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "the notification service is shutting down"));
  }

  void OnWriteDone(bool ok) override {
    MutexLock lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    MutexLock lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    core_.Unwatch(subscriber_, this);  // no OnAppended after this returns
    core_.metrics().open_streams.Decrement();
    {
      MutexLock lock(mu_);
      done_ = true;
      if (scheduled_) return;  // Woken() deletes
    }
    delete this;
  }

 private:
  void Woken() {
    {
      MutexLock lock(mu_);
      scheduled_ = false;
      if (!done_) {
        PumpLocked();
        return;
      }
    }
    delete this;
  }

  // Writes the next notification if none is in flight, reading the log when
  // the chunk in hand is used up.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_) return;
    if (chunk_.empty()) {
      absl::StatusOr<std::vector<v1::Notification>> read =
          core_.ReadAfter(subscriber_, after_, kChunk);
      if (!read.ok()) {
        FinishLocked(ToGrpcStatus(read.status()));
        return;
      }
      chunk_.assign(std::make_move_iterator(read->begin()), std::make_move_iterator(read->end()));
      if (chunk_.empty()) return;  // caught up: OnAppended wakes us
    }
    const v1::Notification& next = chunk_.front();
    buffer_.Clear();  // the previous write is done with it
    bool own_buffer;
    grpc::Status serialized = grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::Notification>(
        next, &buffer_, &own_buffer);
    if (!serialized.ok()) {
      FinishLocked(serialized);
      return;
    }
    after_ = next.sequence();
    core_.metrics().delivered.Add({{"mode", "stream"}}).Increment();
    core_.metrics()
        .delivery_lag.Add({{"mode", "stream"}}, LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(core_.clock().Now() - FromProtoTime(next.publish_time())));
    chunk_.pop_front();
    writing_ = true;
    StartWrite(&buffer_);
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  NotificationCore& core_;
  const std::string subscriber_;
  Mutex mu_;
  uint64_t after_ ABSL_GUARDED_BY(mu_);
  StreamSlot slot_;  // room for this stream in the gate's capacity, until done
  std::deque<v1::Notification> chunk_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // A turn is scheduled on wakeup_; OnDone leaves the delete to it.
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Alarm wakeup_;
};

}  // namespace

grpc::ServerUnaryReactor* NotificationService::Publish(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeUnary<v1::PublishRequest>(
      gate_, context, request, response,
      [&](const Caller& caller, const v1::PublishRequest& parsed, UnaryResponder responder) {
        if (absl::Status denied = MayPublish(caller); !denied.ok()) return responder.Finish(denied);
        if (!AnswerHere(peers_, *context)) return PublishSplit(context, caller, parsed, responder);
        core_.Publish(parsed, [responder](const absl::StatusOr<v1::PublishResponse>& result) {
          responder.Finish(result);
        });
      },
      Capacity::Work::kWrite);
}

void NotificationService::PublishSplit(grpc::CallbackServerContext* context, const Caller& caller,
                                       const v1::PublishRequest& request,
                                       UnaryResponder responder) {
  if (absl::Status invalid = ValidatePublishRequest(request); !invalid.ok()) {
    return responder.Finish(invalid);
  }
  // Each event, with just the recipients of each partition, to that one.
  std::vector<v1::PublishRequest> parts_by_partition(peers_->count());
  for (const issue::v1::IssueEvent& event : request.events()) {
    std::vector<issue::v1::IssueEvent*> copies(peers_->count(), nullptr);
    for (const std::string& recipient : event.recipients()) {
      const int partition = PartitionOf(recipient, peers_->count());
      if (copies[partition] == nullptr) {
        copies[partition] = parts_by_partition[partition].add_events();
        *copies[partition] = event;
        copies[partition]->clear_recipients();
      }
      copies[partition]->add_recipients(recipient);
    }
  }
  int parts = 0;
  for (const v1::PublishRequest& part : parts_by_partition) parts += part.events().empty() ? 0 : 1;
  // Every part answers before the call does; a retry is safe, as an event id
  // appears in a log once.
  auto tally = Tally::Of(parts, [responder](const grpc::Status& error, int64_t appended) {
    if (!error.ok()) return responder.FinishRelayed(error, {});
    v1::PublishResponse response;
    response.set_appended(appended);
    responder.Finish(response);
  });
  for (int partition = 0; partition < peers_->count(); ++partition) {
    const v1::PublishRequest& part = parts_by_partition[partition];
    if (part.events().empty()) continue;
    if (partition == peers_->self()) {
      core_.Publish(part, [tally](const absl::StatusOr<v1::PublishResponse>& result) {
        tally->Add(ToGrpcStatus(result.status()), result.ok() ? result->appended() : 0);
      });
      continue;
    }
    CallInto<v1::PublishResponse>(*peers_, partition, kPublish, context, caller, part, tally,
                                  [](const v1::PublishResponse& r) { return r.appended(); });
  }
}

grpc::ServerUnaryReactor* NotificationService::AcknowledgeNotifications(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLaterAt<v1::AcknowledgeNotificationsResponse, v1::AcknowledgeNotificationsRequest>(
      gate_, At(kAcknowledge), BySubscriber{Partitions(peers_)}, context, request, response,
      [](const Caller& caller, const v1::AcknowledgeNotificationsRequest& parsed) {
        return MayActAs(caller, parsed.subscriber(), "acknowledge notifications");
      },
      [this](const Caller&, const auto& parsed, auto done) {
        core_.Acknowledge(parsed, std::move(done));
      });
}

grpc::ServerUnaryReactor* NotificationService::ListNotifications(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeNowAt<v1::ListNotificationsRequest>(
      gate_, At(kListNotifications), BySubscriber{Partitions(peers_)}, context, request, response,
      [](const Caller& caller, const v1::ListNotificationsRequest& parsed) {
        return MayRead(caller, parsed.subscriber(), "list notifications");
      },
      [this](const Caller&, const auto& parsed) { return core_.List(parsed); });
}

grpc::ServerUnaryReactor* NotificationService::CreatePushSubscription(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  const BySubscriber by_subscriber{Partitions(peers_)};
  return ServeLaterAt<v1::PushSubscription, v1::CreatePushSubscriptionRequest>(
      gate_, At(kCreatePush),
      [by_subscriber](const v1::CreatePushSubscriptionRequest& parsed) {
        return by_subscriber(parsed.subscription().subscriber());
      },
      context, request, response,
      [](const Caller& caller, const v1::CreatePushSubscriptionRequest& parsed) {
        return MayActAs(caller, parsed.subscription().subscriber(), "subscribe a push endpoint");
      },
      [this](const Caller&, const auto& parsed, auto done) {
        pushes_.CreateSubscription(parsed, std::move(done));
      });
}

grpc::ServerUnaryReactor* NotificationService::ListPushSubscriptions(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListPushSubscriptionsRequest>(
      gate_, context, request, response,
      [&](const Caller& caller, const v1::ListPushSubscriptionsRequest& parsed,
          UnaryResponder responder) {
        if (absl::Status denied = MayOperate(caller, "list push subscriptions"); !denied.ok()) {
          return responder.Finish(denied);
        }
        auto local = [this](const v1::ListPushSubscriptionsRequest& part) {
          return pushes_.ListSubscriptions(part);
        };
        if (AnswerHere(peers_, *context)) return responder.Finish(local(parsed));
        ServeWalk<v1::ListPushSubscriptionsRequest, v1::ListPushSubscriptionsResponse>(
            *peers_, kListPush, context, caller, parsed, responder, local);
      });
}

grpc::ServerUnaryReactor* NotificationService::DeletePushSubscription(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLaterAt<v1::DeletePushSubscriptionResponse, v1::DeletePushSubscriptionRequest>(
      gate_, At(kDeletePush), BySubscriber{Partitions(peers_)}, context, request, response,
      [](const Caller& caller, const v1::DeletePushSubscriptionRequest& parsed) {
        return MayActAs(caller, parsed.subscriber(), "delete the push subscription");
      },
      [this](const Caller&, const auto& parsed, auto done) {
        pushes_.DeleteSubscription(parsed, std::move(done));
      });
}

grpc::ServerUnaryReactor* NotificationService::ListDeadLetters(grpc::CallbackServerContext* context,
                                                               const grpc::ByteBuffer* request,
                                                               grpc::ByteBuffer* response) {
  return ServeUnaryAt<v1::ListDeadLettersRequest>(
      gate_, At(kListDeadLetters), BySubscriber{Partitions(peers_)}, context, request, response,
      [&](const Caller& caller, const v1::ListDeadLettersRequest& parsed,
          UnaryResponder responder) {
        if (absl::Status denied = MayRead(caller, parsed.subscriber(), "list dead letters");
            !denied.ok()) {
          return responder.Finish(denied);
        }
        auto local = [this](const v1::ListDeadLettersRequest& part) {
          return pushes_.ListDeadLetters(part);
        };
        // One subscriber's are in its partition, which this is.
        if (!parsed.subscriber().empty() || AnswerHere(peers_, *context)) {
          return responder.Finish(local(parsed));
        }
        ServeWalk<v1::ListDeadLettersRequest, v1::ListDeadLettersResponse>(
            *peers_, kListDeadLetters, context, caller, parsed, responder, local);
      });
}

grpc::ServerUnaryReactor* NotificationService::RedriveDeadLetters(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnaryAt<v1::RedriveDeadLettersRequest>(
      gate_, At(kRedrive), BySubscriber{Partitions(peers_)}, context, request, response,
      [&](const Caller& caller, const v1::RedriveDeadLettersRequest& parsed,
          UnaryResponder responder) {
        if (absl::Status denied = MayOperate(caller, "redrive dead letters"); !denied.ok()) {
          return responder.Finish(denied);
        }
        if (parsed.subscriber().empty() && !AnswerHere(peers_, *context)) {
          return RedriveEverywhere(context, caller, parsed, responder);
        }
        pushes_.RedriveDeadLetters(
            parsed, [responder](const absl::StatusOr<v1::RedriveDeadLettersResponse>& result) {
              responder.Finish(result);
            });
      },
      Capacity::Work::kWrite);
}

void NotificationService::RedriveEverywhere(grpc::CallbackServerContext* context,
                                            const Caller& caller,
                                            const v1::RedriveDeadLettersRequest& request,
                                            UnaryResponder responder) {
  if (absl::Status invalid = ValidateRedriveDeadLettersRequest(request); !invalid.ok()) {
    return responder.Finish(invalid);
  }
  // What every partition redrove; the first error, once all have answered
  // (what the others redrove stays redriven; a retry redrives what is left).
  auto tally = Tally::Of(peers_->count(), [responder](const grpc::Status& error, int64_t redriven) {
    if (!error.ok()) return responder.FinishRelayed(error, {});
    v1::RedriveDeadLettersResponse response;
    response.set_redriven(redriven);
    responder.Finish(response);
  });
  for (int partition = 0; partition < peers_->count(); ++partition) {
    if (partition == peers_->self()) {
      pushes_.RedriveDeadLetters(
          request, [tally](const absl::StatusOr<v1::RedriveDeadLettersResponse>& result) {
            tally->Add(ToGrpcStatus(result.status()), result.ok() ? result->redriven() : 0);
          });
      continue;
    }
    CallInto<v1::RedriveDeadLettersResponse>(
        *peers_, partition, kRedrive, context, caller, request, tally,
        [](const v1::RedriveDeadLettersResponse& r) { return r.redriven(); });
  }
}

grpc::ServerUnaryReactor* NotificationService::ListDeliveryAttempts(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnaryAt<v1::ListDeliveryAttemptsRequest>(
      gate_, At(kListAttempts), BySubscriber{Partitions(peers_)}, context, request, response,
      [&](const Caller& caller, const v1::ListDeliveryAttemptsRequest& parsed,
          UnaryResponder responder) {
        if (absl::Status denied = MayRead(caller, parsed.subscriber(), "list delivery attempts");
            !denied.ok()) {
          return responder.Finish(denied);
        }
        auto local = [this](const v1::ListDeliveryAttemptsRequest& part) {
          return pushes_.ListDeliveryAttempts(part);
        };
        if (!parsed.subscriber().empty() || AnswerHere(peers_, *context)) {
          return responder.Finish(local(parsed));
        }
        ServeWalk<v1::ListDeliveryAttemptsRequest, v1::ListDeliveryAttemptsResponse>(
            *peers_, kListAttempts, context, caller, parsed, responder, local);
      });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* NotificationService::Subscribe(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  const BySubscriber by_subscriber{Partitions(peers_)};
  return ServeStream<v1::SubscribeRequest>(
      gate_, context, request,
      [](const Caller& caller, const v1::SubscribeRequest& parsed) {
        return MayRead(caller, parsed.subscriber(), "subscribe");
      },
      [&](const Caller& caller, const v1::SubscribeRequest& parsed,
          StreamSlot slot) -> grpc::ServerWriteReactor<grpc::ByteBuffer>* {
        const int owner = peers_ == nullptr ? -1 : by_subscriber(parsed);
        if (owner >= 0 && owner != peers_->self()) {
          if (WasForwarded(*context)) {
            return new FailedStream<grpc::ByteBuffer>(FromGrpcStatus(peers_->NotOwned(owner)));
          }
          return peers_->Relay(owner, kSubscribe, context, caller, *request, std::move(slot));
        }
        absl::StatusOr<uint64_t> after = core_.StartAfter(parsed);
        if (!after.ok()) return new FailedStream<grpc::ByteBuffer>(after.status());
        return new SubscribeStream(core_, parsed.subscriber(), *after, std::move(slot));
      });
}

}  // namespace switchboard::notification
