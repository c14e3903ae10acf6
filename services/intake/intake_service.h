// The gRPC adapter of switchboard.intake.v1.IntakeService: parses each
// request itself (malformed bytes are INVALID_ARGUMENT), calls IntakeCore and
// converts the outcome. Every write finishes in the commit queue's callback,
// after the fsync; no handler waits on disk or on another service.
#ifndef SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_
#define SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_

#include "common/call_gate.h"
#include "services/intake/intake_core.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard::intake {

using RawIntakeService = v1::IntakeService::WithRawCallbackMethod_SubmitIssue<
    v1::IntakeService::WithRawCallbackMethod_GetIssue<
        v1::IntakeService::WithRawCallbackMethod_ListIssues<
            v1::IntakeService::WithRawCallbackMethod_AcknowledgeIssue<
                v1::IntakeService::WithRawCallbackMethod_ResolveIssue<
                    v1::IntakeService::WithRawCallbackMethod_TransferIssue<
                        v1::IntakeService::Service>>>>>>;

struct IntakeServiceOptions {
  // Benchmarks only (--noop_submit): SubmitIssue parses the request and
  // answers at once with the issue as sent; nothing is validated or stored.
  // The baseline that the durable SubmitIssue is measured against.
  bool noop_submit = false;
  // Admits every call (common/call_gate.h); the default lets everyone in
  // as Caller::Local().
  CallGate* gate = &CallGate::Open();
};

class IntakeService final : public RawIntakeService {
 public:
  using Options = IntakeServiceOptions;

  explicit IntakeService(IntakeCore& core, Options options = {}) : core_(core), options_(options) {}

  grpc::ServerUnaryReactor* SubmitIssue(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetIssue(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListIssues(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* AcknowledgeIssue(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* request,
                                             grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ResolveIssue(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* TransferIssue(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;

 private:
  IntakeCore& core_;
  const Options options_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_
