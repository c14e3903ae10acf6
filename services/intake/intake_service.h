// The gRPC adapter of switchboard.intake.v1.IntakeService: parses each
// request itself (malformed bytes are INVALID_ARGUMENT), calls IntakeCore and
// converts the outcome. SubmitIssue finishes in the commit queue's callback,
// after the fsync; no handler waits on disk.
#ifndef SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_
#define SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_

#include "services/intake/intake_core.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard::intake {

// AcknowledgeIssue, ResolveIssue and TransferIssue are not built yet: the
// generated base answers them with UNIMPLEMENTED.
using RawIntakeService = v1::IntakeService::WithRawCallbackMethod_SubmitIssue<
    v1::IntakeService::WithRawCallbackMethod_GetIssue<
        v1::IntakeService::WithRawCallbackMethod_ListIssues<v1::IntakeService::CallbackService>>>;

class IntakeService final : public RawIntakeService {
 public:
  explicit IntakeService(IntakeCore& core) : core_(core) {}

  grpc::ServerUnaryReactor* SubmitIssue(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetIssue(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListIssues(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;

 private:
  IntakeCore& core_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_
