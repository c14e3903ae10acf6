#include "services/notification/notification_service.h"

#include <deque>

#include <grpcpp/alarm.h>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "absl/strings/str_cat.h"
#include "common/handler.h"
#include "common/metrics.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/sync.h"
#include "services/notification/access.h"

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
  return ServeLater<v1::PublishResponse, v1::PublishRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::PublishRequest&) { return MayPublish(caller); },
      [this](const Caller&, const auto& parsed, auto done) {
        core_.Publish(parsed, std::move(done));
      });
}

grpc::ServerUnaryReactor* NotificationService::AcknowledgeNotifications(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::AcknowledgeNotificationsResponse, v1::AcknowledgeNotificationsRequest>(
      gate_, context, request, response,
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
  return ServeNow<v1::ListNotificationsRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::ListNotificationsRequest& parsed) {
        return MayRead(caller, parsed.subscriber(), "list notifications");
      },
      [this](const Caller&, const auto& parsed) { return core_.List(parsed); });
}

grpc::ServerUnaryReactor* NotificationService::CreatePushSubscription(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::PushSubscription, v1::CreatePushSubscriptionRequest>(
      gate_, context, request, response,
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
  return ServeNow<v1::ListPushSubscriptionsRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::ListPushSubscriptionsRequest&) {
        return MayOperate(caller, "list push subscriptions");
      },
      [this](const Caller&, const auto& parsed) { return pushes_.ListSubscriptions(parsed); });
}

grpc::ServerUnaryReactor* NotificationService::DeletePushSubscription(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::DeletePushSubscriptionResponse, v1::DeletePushSubscriptionRequest>(
      gate_, context, request, response,
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
  return ServeNow<v1::ListDeadLettersRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::ListDeadLettersRequest& parsed) {
        return MayRead(caller, parsed.subscriber(), "list dead letters");
      },
      [this](const Caller&, const auto& parsed) { return pushes_.ListDeadLetters(parsed); });
}

grpc::ServerUnaryReactor* NotificationService::RedriveDeadLetters(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::RedriveDeadLettersResponse, v1::RedriveDeadLettersRequest>(
      gate_, context, request, response,
      [](const Caller& caller, const v1::RedriveDeadLettersRequest&) {
        return MayOperate(caller, "redrive dead letters");
      },
      [this](const Caller&, const auto& parsed, auto done) {
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
      [this](const Caller&, const auto& parsed) { return pushes_.ListDeliveryAttempts(parsed); });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* NotificationService::Subscribe(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  return ServeStream<v1::SubscribeRequest>(
      gate_, context, request,
      [](const Caller& caller, const v1::SubscribeRequest& parsed) {
        return MayRead(caller, parsed.subscriber(), "subscribe");
      },
      [this](const Caller&,
             const v1::SubscribeRequest& parsed) -> grpc::ServerWriteReactor<grpc::ByteBuffer>* {
        absl::StatusOr<uint64_t> after = core_.StartAfter(parsed);
        if (!after.ok()) return new FailedStream<grpc::ByteBuffer>(after.status());
        return new SubscribeStream(core_, parsed.subscriber(), *after);
      });
}

}  // namespace switchboard::notification
