// The gRPC adapter of switchboard.intake.v1.IntakePartitionService, the
// internal service intake partitions send each other's mail through
// (mail_loop.h). Callable by the service role only; the messages are applied
// by IntakeCore::Deliver and the call answers once their effects are
// durable.
#ifndef SWITCHBOARD_SERVICES_INTAKE_PARTITION_SERVICE_H_
#define SWITCHBOARD_SERVICES_INTAKE_PARTITION_SERVICE_H_

#include "common/call_gate.h"
#include "services/intake/intake_core.h"
#include "switchboard/intake/v1/partition.grpc.pb.h"

namespace switchboard::intake {

using RawIntakePartitionService =
    v1::IntakePartitionService::WithRawCallbackMethod_DeliverPartitionMessages<
        v1::IntakePartitionService::Service>;

class IntakePartitionService final : public RawIntakePartitionService {
 public:
  // `partitions`: how many intake partitions there are (senders are
  // 0..partitions-1).
  IntakePartitionService(IntakeCore& core, int partitions, CallGate& gate = CallGate::Open())
      : core_(core), partitions_(partitions), gate_(gate) {}

  // At most this many messages per call.
  static constexpr int kMaxMessages = 1000;

  grpc::ServerUnaryReactor* DeliverPartitionMessages(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) override;

 private:
  IntakeCore& core_;
  const int partitions_;
  CallGate& gate_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_PARTITION_SERVICE_H_
