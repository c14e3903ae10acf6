// Validation of intake's requests: every check that needs nothing stored,
// made before a request touches the store. Each returns OK or
// INVALID_ARGUMENT with a field violation per problem (common/validation.h).
// Who may make a request, and whether it fits the issue as it is now, the
// core decides after these.
#ifndef SWITCHBOARD_SERVICES_INTAKE_REQUESTS_H_
#define SWITCHBOARD_SERVICES_INTAKE_REQUESTS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "switchboard/intake/v1/intake.pb.h"

namespace switchboard::intake {

inline constexpr size_t kMaxRequestIdChars = 128;
inline constexpr size_t kMaxActorChars = 128;
inline constexpr size_t kMaxEtagChars = 64;
inline constexpr size_t kMaxReasonChars = 1024;
inline constexpr size_t kMaxResolutionBytes = 64 * 1024;
inline constexpr size_t kMaxQuestionChars = 4096;
inline constexpr size_t kMaxResponseBytes = 64 * 1024;

absl::Status ValidateSubmitIssueRequest(const v1::SubmitIssueRequest& request);
absl::Status ValidateGetIssueRequest(const v1::GetIssueRequest& request);
absl::Status ValidateAcknowledgeIssueRequest(const v1::AcknowledgeIssueRequest& request);
absl::Status ValidateResolveIssueRequest(const v1::ResolveIssueRequest& request);
absl::Status ValidateTransferIssueRequest(const v1::TransferIssueRequest& request);
absl::Status ValidateGetProblemRequest(const v1::GetProblemRequest& request);
absl::Status ValidateAcknowledgeProblemRequest(const v1::AcknowledgeProblemRequest& request);
absl::Status ValidateResolveProblemRequest(const v1::ResolveProblemRequest& request);
absl::Status ValidateTransferProblemRequest(const v1::TransferProblemRequest& request);
absl::Status ValidateLinkIssueRequest(const v1::LinkIssueRequest& request);
absl::Status ValidateUnlinkIssueRequest(const v1::UnlinkIssueRequest& request);
absl::Status ValidateWaitOnCustomerRequest(const v1::WaitOnCustomerRequest& request);
absl::Status ValidateRespondToIssueRequest(const v1::RespondToIssueRequest& request);
absl::Status ValidateResumeIssueRequest(const v1::ResumeIssueRequest& request);
absl::Status ValidateReopenIssueRequest(const v1::ReopenIssueRequest& request);
absl::Status ValidateRateIssueRequest(const v1::RateIssueRequest& request);

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_REQUESTS_H_
