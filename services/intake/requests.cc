#include "services/intake/requests.h"

#include "absl/strings/string_view.h"
#include "common/validation.h"
#include "services/intake/issue_id.h"
#include "services/intake/problems.h"

namespace switchboard::intake {
namespace {

void CheckName(Violations& violations, absl::string_view name) {
  if (IssueIdFromName(name).empty()) {
    violations.Add("name", "must be issues/{issue_id}, a 26-character id");
  }
}

// The name, actor and etag every lifecycle request carries.
void CheckNameActorAndEtag(Violations& violations, absl::string_view name, absl::string_view actor,
                           absl::string_view etag) {
  CheckName(violations, name);
  CheckText(violations, "actor", actor, 1, kMaxActorChars);
  CheckText(violations, "etag", etag, 0, kMaxEtagChars);
}

}  // namespace

absl::Status ValidateSubmitIssueRequest(const v1::SubmitIssueRequest& request) {
  Violations violations;
  ValidateIssueInput(request.issue(), "issue", violations);
  CheckText(violations, "request_id", request.request_id(), 1, kMaxRequestIdChars);
  return violations.ToStatus("SubmitIssueRequest");
}

absl::Status ValidateGetIssueRequest(const v1::GetIssueRequest& request) {
  Violations violations;
  CheckName(violations, request.name());
  return violations.ToStatus("GetIssueRequest");
}

absl::Status ValidateAcknowledgeIssueRequest(const v1::AcknowledgeIssueRequest& request) {
  Violations violations;
  CheckNameActorAndEtag(violations, request.name(), request.actor(), request.etag());
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
  return violations.ToStatus("AcknowledgeIssueRequest");
}

absl::Status ValidateResolveIssueRequest(const v1::ResolveIssueRequest& request) {
  Violations violations;
  CheckNameActorAndEtag(violations, request.name(), request.actor(), request.etag());
  if (request.resolution().empty()) {
    violations.Add("resolution", "required");
  } else {
    CheckBytes(violations, "resolution", request.resolution(), kMaxResolutionBytes);
  }
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
  return violations.ToStatus("ResolveIssueRequest");
}

absl::Status ValidateTransferIssueRequest(const v1::TransferIssueRequest& request) {
  Violations violations;
  CheckNameActorAndEtag(violations, request.name(), request.actor(), request.etag());
  if (!request.has_target()) {
    violations.Add("target", "required");
  } else {
    ValidateTarget(request.target(), "target", violations);
  }
  CheckText(violations, "reason", request.reason(), 0, kMaxReasonChars);
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
  return violations.ToStatus("TransferIssueRequest");
}

namespace {

void CheckProblemName(Violations& violations, absl::string_view name) {
  if (ProblemIdFromName(name).empty()) {
    violations.Add("name", "must be problems/{problem_id}, a 26-character id");
  }
}

}  // namespace

absl::Status ValidateGetProblemRequest(const v1::GetProblemRequest& request) {
  Violations violations;
  CheckProblemName(violations, request.name());
  return violations.ToStatus("GetProblemRequest");
}

absl::Status ValidateAcknowledgeProblemRequest(const v1::AcknowledgeProblemRequest& request) {
  Violations violations;
  CheckProblemName(violations, request.name());
  CheckText(violations, "actor", request.actor(), 1, kMaxActorChars);
  CheckText(violations, "etag", request.etag(), 0, kMaxEtagChars);
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
  return violations.ToStatus("AcknowledgeProblemRequest");
}

absl::Status ValidateResolveProblemRequest(const v1::ResolveProblemRequest& request) {
  Violations violations;
  CheckProblemName(violations, request.name());
  CheckText(violations, "actor", request.actor(), 1, kMaxActorChars);
  CheckText(violations, "etag", request.etag(), 0, kMaxEtagChars);
  if (request.resolution().empty()) {
    violations.Add("resolution", "required");
  } else {
    CheckBytes(violations, "resolution", request.resolution(), kMaxResolutionBytes);
  }
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
  return violations.ToStatus("ResolveProblemRequest");
}

absl::Status ValidateLinkIssueRequest(const v1::LinkIssueRequest& request) {
  Violations violations;
  CheckNameActorAndEtag(violations, request.name(), request.actor(), request.etag());
  if (ProblemIdFromName(request.problem()).empty()) {
    violations.Add("problem", "must be problems/{problem_id}, a 26-character id");
  }
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
  return violations.ToStatus("LinkIssueRequest");
}

absl::Status ValidateUnlinkIssueRequest(const v1::UnlinkIssueRequest& request) {
  Violations violations;
  CheckNameActorAndEtag(violations, request.name(), request.actor(), request.etag());
  if (ProblemIdFromName(request.problem()).empty()) {
    violations.Add("problem", "must be problems/{problem_id}, a 26-character id");
  }
  CheckText(violations, "reason", request.reason(), 0, kMaxReasonChars);
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
  return violations.ToStatus("UnlinkIssueRequest");
}

absl::Status ValidateTransferProblemRequest(const v1::TransferProblemRequest& request) {
  Violations violations;
  CheckProblemName(violations, request.name());
  CheckText(violations, "actor", request.actor(), 1, kMaxActorChars);
  CheckText(violations, "etag", request.etag(), 0, kMaxEtagChars);
  if (!request.has_target()) {
    violations.Add("target", "required");
  } else {
    ValidateTarget(request.target(), "target", violations);
  }
  CheckText(violations, "reason", request.reason(), 0, kMaxReasonChars);
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
  return violations.ToStatus("TransferProblemRequest");
}

namespace {

// The fields every customer-wait, reopen and rating request shares: name,
// actor, etag and request_id.
template <typename Request>
void CheckLifecycle(Violations& violations, const Request& request) {
  CheckNameActorAndEtag(violations, request.name(), request.actor(), request.etag());
  CheckText(violations, "request_id", request.request_id(), 0, kMaxRequestIdChars);
}

}  // namespace

absl::Status ValidateWaitOnCustomerRequest(const v1::WaitOnCustomerRequest& request) {
  Violations violations;
  CheckLifecycle(violations, request);
  CheckText(violations, "question", request.question(), 1, kMaxQuestionChars);
  return violations.ToStatus("WaitOnCustomerRequest");
}

absl::Status ValidateRespondToIssueRequest(const v1::RespondToIssueRequest& request) {
  Violations violations;
  CheckLifecycle(violations, request);
  if (request.response().empty()) {
    violations.Add("response", "required");
  } else {
    CheckBytes(violations, "response", request.response(), kMaxResponseBytes);
  }
  return violations.ToStatus("RespondToIssueRequest");
}

absl::Status ValidateResumeIssueRequest(const v1::ResumeIssueRequest& request) {
  Violations violations;
  CheckLifecycle(violations, request);
  CheckText(violations, "reason", request.reason(), 0, kMaxReasonChars);
  return violations.ToStatus("ResumeIssueRequest");
}

absl::Status ValidateReopenIssueRequest(const v1::ReopenIssueRequest& request) {
  Violations violations;
  CheckLifecycle(violations, request);
  CheckText(violations, "reason", request.reason(), 1, kMaxReasonChars);
  return violations.ToStatus("ReopenIssueRequest");
}

absl::Status ValidateRateIssueRequest(const v1::RateIssueRequest& request) {
  Violations violations;
  CheckLifecycle(violations, request);
  if (request.rating() < 1 || request.rating() > 5) {
    violations.Add("rating", "must be 1 (very dissatisfied) to 5 (very satisfied)");
  }
  CheckText(violations, "comment", request.comment(), 0, kMaxReasonChars);
  return violations.ToStatus("RateIssueRequest");
}

}  // namespace switchboard::intake
