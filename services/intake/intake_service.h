// The gRPC adapter of switchboard.intake.v1.IntakeService: parses each
// request itself (malformed bytes are INVALID_ARGUMENT), calls IntakeCore and
// converts the outcome. Every write finishes in the commit queue's callback,
// after the fsync; no handler waits on disk or on another service.
//
// Partitioned (docs/scale-out.md), a SubmitIssue belongs to the partition its
// request_id hashes to, an issue's calls to the partition its id names; they
// are forwarded there. ListIssues asks every partition for its part and
// merges them (merged_list.h); its page tokens name the partition that made
// them, which serves the next page. A problem's calls go to the partition its
// id names; ListProblems walks the partitions in order, each page from one
// of them.
#ifndef SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_
#define SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_

#include "common/call_gate.h"
#include "common/forwarding.h"
#include "common/handler.h"
#include "services/intake/intake_core.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

namespace switchboard::intake {

// Waiting on the customer, reopen and the customer's rating.
using RawCustomerMethods = v1::IntakeService::WithRawCallbackMethod_WaitOnCustomer<
    v1::IntakeService::WithRawCallbackMethod_RespondToIssue<
        v1::IntakeService::WithRawCallbackMethod_ResumeIssue<
            v1::IntakeService::WithRawCallbackMethod_ReopenIssue<
                v1::IntakeService::WithRawCallbackMethod_RateIssue<v1::IntakeService::Service>>>>>;

using RawIntakeService = v1::IntakeService::WithRawCallbackMethod_SubmitIssue<
    v1::IntakeService::WithRawCallbackMethod_GetIssue<
        v1::IntakeService::WithRawCallbackMethod_ListIssues<
            v1::IntakeService::WithRawCallbackMethod_AcknowledgeIssue<
                v1::IntakeService::WithRawCallbackMethod_ResolveIssue<
                    v1::IntakeService::WithRawCallbackMethod_TransferIssue<
                        v1::IntakeService::WithRawCallbackMethod_GetProblem<
                            v1::IntakeService::WithRawCallbackMethod_ListProblems<
                                v1::IntakeService::WithRawCallbackMethod_AcknowledgeProblem<
                                    v1::IntakeService::WithRawCallbackMethod_ResolveProblem<
                                        v1::IntakeService::WithRawCallbackMethod_TransferProblem<
                                            v1::IntakeService::WithRawCallbackMethod_LinkIssue<
                                                v1::IntakeService::
                                                    WithRawCallbackMethod_UnlinkIssue<
                                                        RawCustomerMethods>>>>>>>>>>>>>;

struct IntakeServiceOptions {
  // Benchmarks only (--noop_submit): SubmitIssue parses the request and
  // answers at once with the issue as sent; nothing is validated or stored.
  // The baseline that the durable SubmitIssue is measured against.
  bool noop_submit = false;
  // Admits every call (common/call_gate.h); the default lets everyone in
  // as Caller::Local().
  CallGate* gate = &CallGate::Open();
  // The other intake partitions (common/forwarding.h); null when intake is
  // one partition. Calls another partition owns are forwarded there, and
  // ListIssues merges every partition's issues.
  PartitionPeers* peers = nullptr;
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
  grpc::ServerUnaryReactor* GetProblem(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListProblems(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* AcknowledgeProblem(grpc::CallbackServerContext* context,
                                               const grpc::ByteBuffer* request,
                                               grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ResolveProblem(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* TransferProblem(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* LinkIssue(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* UnlinkIssue(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* WaitOnCustomer(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RespondToIssue(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ResumeIssue(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ReopenIssue(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RateIssue(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;

 private:
  // Reads problem `name` where it lives, here or on its partition, on
  // behalf of `caller`; `done` runs once.
  using ProblemRead = absl::AnyInvocable<void(absl::StatusOr<issue::v1::Problem>) &&>;
  void ReadProblem(grpc::CallbackServerContext* context, const Caller& caller,
                   const std::string& name, ProblemRead done);
  // ListIssues of a partitioned intake: every partition's issues, merged.
  void ListMerged(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
                  const Caller& caller, const v1::ListIssuesRequest& request,
                  UnaryResponder responder);

  // ListProblems of a partitioned intake: one partition's page at a time.
  void ListProblemsWalk(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
                        const Caller& caller, const v1::ListProblemsRequest& request,
                        UnaryResponder responder);

  Placement At(const char* method) const { return {options_.peers, method}; }

  IntakeCore& core_;
  const Options options_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVICE_H_
