#include "services/intake/partition_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/handler.h"
#include "common/validation.h"
#include "services/intake/access.h"

namespace switchboard::intake {
namespace {

absl::Status ValidateDeliverRequest(const v1::DeliverPartitionMessagesRequest& request,
                                    int partitions) {
  Violations violations;
  if (request.sender() < 0 || request.sender() >= partitions) {
    violations.Add("sender", absl::StrCat("must be an intake partition, 0..", partitions - 1));
  }
  if (request.messages().empty() ||
      request.messages_size() > IntakePartitionService::kMaxMessages) {
    violations.Add("messages",
                   absl::StrCat("1..", IntakePartitionService::kMaxMessages, " messages"));
  }
  return violations.ToStatus("DeliverPartitionMessagesRequest");
}

}  // namespace

grpc::ServerUnaryReactor* IntakePartitionService::DeliverPartitionMessages(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeLater<v1::DeliverPartitionMessagesResponse, v1::DeliverPartitionMessagesRequest>(
      gate_, context, request, response,
      [this](const Caller& caller, v1::DeliverPartitionMessagesRequest& parsed) -> absl::Status {
        RETURN_IF_ERROR(MayDeliverMessages(caller));
        return ValidateDeliverRequest(parsed, partitions_);
      },
      [this](
          const Caller&, const v1::DeliverPartitionMessagesRequest& parsed,
          absl::AnyInvocable<void(absl::StatusOr<v1::DeliverPartitionMessagesResponse>) &&> done) {
        core_.Deliver(parsed, [done = std::move(done)](absl::Status status) mutable {
          if (status.ok()) {
            std::move(done)(v1::DeliverPartitionMessagesResponse());
          } else {
            std::move(done)(std::move(status));
          }
        });
      });
}

}  // namespace switchboard::intake
