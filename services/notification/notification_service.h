// The gRPC adapter of switchboard.notification.v1.NotificationService:
// parses each request itself, calls NotificationCore, and runs Subscribe
// streams.
//
// A stream reads the subscriber's durable log from its start position in
// chunks and writes one notification at a time; when it has caught up it
// waits to be woken by the core. A slow reader only holds its position: the
// server keeps at most one chunk per stream and never slows other streams.
//
// Partitioned (docs/scale-out.md), a subscriber's log, cursor, push
// subscription and dead letters live in the partition its name hashes to:
// its calls, Subscribe streams included, are forwarded there. A Publish is
// split by its recipients' partitions. Operator lists that name no
// subscriber walk the partitions in order; a redrive of every subscriber
// asks every partition.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_

#include "common/call_gate.h"
#include "common/forwarding.h"
#include "common/handler.h"
#include "services/notification/notification_core.h"
#include "services/notification/push_deliverer.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard::notification {

using RawNotificationService = v1::NotificationService::WithRawCallbackMethod_Publish<
    v1::NotificationService::WithRawCallbackMethod_Subscribe<
        v1::NotificationService::WithRawCallbackMethod_AcknowledgeNotifications<
            v1::NotificationService::WithRawCallbackMethod_ListNotifications<
                v1::NotificationService::WithRawCallbackMethod_CreatePushSubscription<
                    v1::NotificationService::WithRawCallbackMethod_ListPushSubscriptions<
                        v1::NotificationService::WithRawCallbackMethod_DeletePushSubscription<
                            v1::NotificationService::WithRawCallbackMethod_ListDeadLetters<
                                v1::NotificationService::WithRawCallbackMethod_RedriveDeadLetters<
                                    v1::NotificationService::
                                        WithRawCallbackMethod_ListDeliveryAttempts<
                                            v1::NotificationService::CallbackService>>>>>>>>>>;

class NotificationService final : public RawNotificationService {
 public:
  // `gate` admits every call (common/call_gate.h); the default lets everyone
  // in as Caller::Local().
  // `peers`: the other notification partitions (common/forwarding.h); null
  // when notification is one partition.
  NotificationService(NotificationCore& core, PushDeliverer& pushes,
                      CallGate& gate = CallGate::Open(), PartitionPeers* peers = nullptr)
      : core_(core), pushes_(pushes), gate_(gate), peers_(peers) {}

  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* AcknowledgeNotifications(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListNotifications(grpc::CallbackServerContext* context,
                                              const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CreatePushSubscription(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListPushSubscriptions(grpc::CallbackServerContext* context,
                                                  const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeletePushSubscription(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListDeadLetters(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RedriveDeadLetters(grpc::CallbackServerContext* context,
                                               const grpc::ByteBuffer* request,
                                               grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListDeliveryAttempts(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* request,
                                                 grpc::ByteBuffer* response) override;

 private:
  void PublishSplit(grpc::CallbackServerContext* context, const Caller& caller,
                    const v1::PublishRequest& request, UnaryResponder responder);
  void RedriveEverywhere(grpc::CallbackServerContext* context, const Caller& caller,
                         const v1::RedriveDeadLettersRequest& request, UnaryResponder responder);
  Placement At(const char* method) const { return {peers_, method}; }

  NotificationCore& core_;
  PushDeliverer& pushes_;
  CallGate& gate_;
  PartitionPeers* const peers_;
};

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
