// Request validation: the first byte picks one of intake's requests, the
// rest is parsed as it (as the service parses it) and validated by the
// functions the service calls (services/intake/requests.h). Must never
// crash; a refusal is INVALID_ARGUMENT whose details fit in gRPC's trailing
// metadata; a request that validates holds what the API promises of it.
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "common/utf8.h"
#include "common/validation.h"
#include "services/intake/issue_id.h"
#include "services/intake/requests.h"
#include "switchboard/intake/v1/intake.pb.h"

namespace {

namespace intake = switchboard::intake;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// What any refusal must look like: INVALID_ARGUMENT with 1 to 10 field
// violations, the whole error well within gRPC's 8 KiB of trailing metadata.
void CheckRefusal(const absl::Status& status) {
  Check(status.code() == absl::StatusCode::kInvalidArgument);
  const auto violations = switchboard::GetFieldViolations(status);
  Check(!violations.empty() && violations.size() <= switchboard::kMaxReportedViolations);
  Check(switchboard::ToGrpcStatus(status).error_details().size() + status.message().size() <
        7 * 1024);
}

// A valid issue name: issues/{a valid id}, which names it back.
void CheckName(absl::string_view name) {
  const absl::string_view id = intake::IssueIdFromName(name);
  Check(intake::IsValidIssueId(id) && intake::IssueName(id) == name);
}

template <typename Request>
bool Parse(absl::string_view bytes, Request& request) {
  return request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

void Submit(absl::string_view bytes) {
  intake::v1::SubmitIssueRequest request;
  if (!Parse(bytes, request)) return;
  const absl::Status status = intake::ValidateSubmitIssueRequest(request);
  if (!status.ok()) return CheckRefusal(status);
  const auto& issue = request.issue();
  Check(switchboard::IsValidUtf8(issue.title()) && !issue.title().empty());
  Check(switchboard::IsValidUtf8(request.request_id()) && !request.request_id().empty());
  Check(switchboard::IsValidId(issue.product()) && switchboard::IsValidId(issue.customer().id()));
  Check(issue.severity() != switchboard::issue::v1::SEVERITY_UNSPECIFIED);
  Check(static_cast<size_t>(issue.labels_size()) <= switchboard::kMaxLabels);
  std::string again;
  Check(request.SerializeToString(&again));
}

void Get(absl::string_view bytes) {
  intake::v1::GetIssueRequest request;
  if (!Parse(bytes, request)) return;
  const absl::Status status = intake::ValidateGetIssueRequest(request);
  if (!status.ok()) return CheckRefusal(status);
  CheckName(request.name());
}

void Acknowledge(absl::string_view bytes) {
  intake::v1::AcknowledgeIssueRequest request;
  if (!Parse(bytes, request)) return;
  const absl::Status status = intake::ValidateAcknowledgeIssueRequest(request);
  if (!status.ok()) return CheckRefusal(status);
  CheckName(request.name());
  Check(!request.actor().empty() && switchboard::IsValidUtf8(request.actor()));
  Check(switchboard::IsValidUtf8(request.etag()));
}

void Resolve(absl::string_view bytes) {
  intake::v1::ResolveIssueRequest request;
  if (!Parse(bytes, request)) return;
  const absl::Status status = intake::ValidateResolveIssueRequest(request);
  if (!status.ok()) return CheckRefusal(status);
  CheckName(request.name());
  Check(!request.resolution().empty() &&
        request.resolution().size() <= intake::kMaxResolutionBytes &&
        switchboard::IsValidUtf8(request.resolution()));
}

void Transfer(absl::string_view bytes) {
  intake::v1::TransferIssueRequest request;
  if (!Parse(bytes, request)) return;
  const absl::Status status = intake::ValidateTransferIssueRequest(request);
  if (!status.ok()) return CheckRefusal(status);
  CheckName(request.name());
  Check(switchboard::IsValidId(request.target().business_group()) &&
        switchboard::IsValidId(request.target().team()));
  Check(switchboard::IsValidUtf8(request.reason()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      Submit(bytes);
      break;
    case 1:
      Get(bytes);
      break;
    case 2:
      Acknowledge(bytes);
      break;
    case 3:
      Resolve(bytes);
      break;
    default:
      Transfer(bytes);
      break;
  }
  return 0;
}
