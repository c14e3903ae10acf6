#include "services/notification/notification_service.h"

#include <deque>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "absl/strings/str_cat.h"
#include "common/metrics.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/sync.h"
#include "common/unary_call.h"

namespace switchboard::notification {
namespace {

constexpr int kChunk = 64;

// One Subscribe stream; deletes itself when gRPC is done with it.
class SubscribeStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer>, public LogWatcher {
 public:
  SubscribeStream(NotificationCore& core, std::string subscriber, uint64_t after)
      : core_(core), subscriber_(std::move(subscriber)), after_(after) {
    core_.metrics().open_streams.Increment();
    core_.Watch(subscriber_, this);
    MutexLock lock(mu_);
    PumpLocked();
  }

  void OnAppended() override {
    MutexLock lock(mu_);
    PumpLocked();
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
    core_.Unwatch(subscriber_, this);
    core_.metrics().open_streams.Decrement();
    delete this;
  }

 private:
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
  std::deque<v1::Notification> chunk_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// A stream that only reports an error.
class FailedStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit FailedStream(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

// A caller's right to one RPC, given its request.
template <typename Request>
using Permission = absl::Status (*)(const Caller& caller, const Request& request);

// Serves a unary RPC whose answer is ready at once.
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* ServeNow(CallGate& gate, grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
                                   Permission<Request> permitted, Handler handler) {
  return ServeUnary<Request>(gate, context, request, response,
                             [&](const Caller& caller, const Request& parsed, UnaryResponder done) {
                               if (absl::Status denied = permitted(caller, parsed); !denied.ok()) {
                                 return done.Finish(denied);
                               }
                               done.Finish(handler(parsed));
                             });
}

// Serves a unary RPC that answers once its write is durable.
template <typename Request, typename Response, typename Start>
grpc::ServerUnaryReactor* ServeLater(CallGate& gate, grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
                                     Permission<Request> permitted, Start start) {
  return ServeUnary<Request>(
      gate, context, request, response,
      [&](const Caller& caller, const Request& parsed, UnaryResponder done) {
        if (absl::Status denied = permitted(caller, parsed); !denied.ok()) {
          return done.Finish(denied);
        }
        start(parsed, [done](const absl::StatusOr<Response>& result) { done.Finish(result); });
      });
}

// Who may do what: a subscriber's notifications and push subscription are
// its own (a team's members, a source's submitters); operators read
// everything and redrive dead letters; only services publish.
absl::Status MayActAs(const Caller& caller, absl::string_view subscriber, absl::string_view verb) {
  if (caller.ActsAsSubscriber(subscriber)) return absl::OkStatus();
  return caller.Deny(absl::StrCat(verb, " as subscriber \"", subscriber, "\""));
}

absl::Status MayRead(const Caller& caller, absl::string_view subscriber, absl::string_view verb) {
  if (caller.Has(Role::kOperator)) return absl::OkStatus();
  if (subscriber.empty()) return caller.Deny(absl::StrCat(verb, " of every subscriber"));
  return MayActAs(caller, subscriber, verb);
}

absl::Status MayOperate(const Caller& caller, absl::string_view verb) {
  return caller.Has(Role::kOperator) ? absl::OkStatus() : caller.Deny(verb);
}

}  // namespace

grpc::ServerUnaryReactor* NotificationService::Publish(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeLater<v1::PublishRequest, v1::PublishResponse>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::PublishRequest&) {
        return caller.Has(Role::kService) ? absl::OkStatus() : caller.Deny("publish");
      },
      [this](const auto& parsed, auto done) { core_.Publish(parsed, std::move(done)); });
}

grpc::ServerUnaryReactor* NotificationService::AcknowledgeNotifications(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::AcknowledgeNotificationsRequest, v1::AcknowledgeNotificationsResponse>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::AcknowledgeNotificationsRequest& parsed) {
        return MayActAs(caller, parsed.subscriber(), "acknowledge notifications");
      },
      [this](const auto& parsed, auto done) { core_.Acknowledge(parsed, std::move(done)); });
}

grpc::ServerUnaryReactor* NotificationService::ListNotifications(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeNow<v1::ListNotificationsRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::ListNotificationsRequest& parsed) {
        return MayRead(caller, parsed.subscriber(), "list notifications");
      },
      [this](const auto& parsed) { return core_.List(parsed); });
}

grpc::ServerUnaryReactor* NotificationService::CreatePushSubscription(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::CreatePushSubscriptionRequest, v1::PushSubscription>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::CreatePushSubscriptionRequest& parsed) {
        return MayActAs(caller, parsed.subscription().subscriber(), "subscribe a push endpoint");
      },
      [this](const auto& parsed, auto done) {
        pushes_.CreateSubscription(parsed, std::move(done));
      });
}

grpc::ServerUnaryReactor* NotificationService::ListPushSubscriptions(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeNow<v1::ListPushSubscriptionsRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::ListPushSubscriptionsRequest&) {
        return MayOperate(caller, "list push subscriptions");
      },
      [this](const auto& parsed) { return pushes_.ListSubscriptions(parsed); });
}

grpc::ServerUnaryReactor* NotificationService::DeletePushSubscription(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::DeletePushSubscriptionRequest, v1::DeletePushSubscriptionResponse>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::DeletePushSubscriptionRequest& parsed) {
        return MayActAs(caller, parsed.subscriber(), "delete the push subscription");
      },
      [this](const auto& parsed, auto done) {
        pushes_.DeleteSubscription(parsed, std::move(done));
      });
}

grpc::ServerUnaryReactor* NotificationService::ListDeadLetters(grpc::CallbackServerContext* context,
                                                               const grpc::ByteBuffer* request,
                                                               grpc::ByteBuffer* response) {
  return ServeNow<v1::ListDeadLettersRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::ListDeadLettersRequest& parsed) {
        return MayRead(caller, parsed.subscriber(), "list dead letters");
      },
      [this](const auto& parsed) { return pushes_.ListDeadLetters(parsed); });
}

grpc::ServerUnaryReactor* NotificationService::RedriveDeadLetters(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::RedriveDeadLettersRequest, v1::RedriveDeadLettersResponse>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::RedriveDeadLettersRequest&) {
        return MayOperate(caller, "redrive dead letters");
      },
      [this](const auto& parsed, auto done) {
        pushes_.RedriveDeadLetters(parsed, std::move(done));
      });
}

grpc::ServerUnaryReactor* NotificationService::ListDeliveryAttempts(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeNow<v1::ListDeliveryAttemptsRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::ListDeliveryAttemptsRequest& parsed) {
        return MayRead(caller, parsed.subscriber(), "list delivery attempts");
      },
      [this](const auto& parsed) { return pushes_.ListDeliveryAttempts(parsed); });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* NotificationService::Subscribe(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  absl::StatusOr<const Caller*> caller = gate_.Admit(*context);
  if (!caller.ok()) return new FailedStream(caller.status());
  v1::SubscribeRequest parsed;
  if (absl::Status status = ParseMessage(*request, &parsed); !status.ok())
    return new FailedStream(status);
  if (absl::Status denied = MayRead(**caller, parsed.subscriber(), "subscribe"); !denied.ok()) {
    gate_.CountDenied((*caller)->caller_class());
    return new FailedStream(denied);
  }
  absl::StatusOr<uint64_t> after = core_.StartAfter(parsed);
  if (!after.ok()) return new FailedStream(after.status());
  return new SubscribeStream(core_, parsed.subscriber(), *after);
}

}  // namespace switchboard::notification
