// Error handling shared by every service.
//
// Inside the code every fallible call returns absl::Status or
// absl::StatusOr<T>; the gRPC adapters convert to grpc::Status in exactly one
// place, ToGrpcStatus(). Field violations travel as a google.rpc.BadRequest
// payload on the absl::Status and as a `grpc-status-details-bin` detail on the
// wire, where any gRPC client (C++, Node, Python) can read them.
//
//   absl::StatusOr<Issue> LoadIssue(absl::string_view name) {
//     RETURN_IF_ERROR(ValidateIssueName(name));
//     ASSIGN_OR_RETURN(std::string bytes, store.Get(name));
//     ...
//   }
#ifndef SWITCHBOARD_COMMON_STATUS_H_
#define SWITCHBOARD_COMMON_STATUS_H_

#include <string>
#include <utility>
#include <vector>
#include "absl/strings/string_view.h"

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "google/rpc/error_details.pb.h"

namespace switchboard {

// The type URL under which a google.rpc.BadRequest is attached.
inline constexpr absl::string_view kBadRequestTypeUrl = "type.googleapis.com/google.rpc.BadRequest";

// One invalid field: `field` is a path such as "issue.customer.id".
struct FieldViolation {
  std::string field;
  std::string description;
};

// INVALID_ARGUMENT with `message` and a BadRequest payload listing
// `violations`.
absl::Status InvalidArgumentWithViolations(absl::string_view message,
                                           const std::vector<FieldViolation>& violations);

// `status` (NOT_FOUND, FAILED_PRECONDITION, ABORTED…) with a BadRequest
// payload naming the request field it is about, so that a client can point
// at the field whatever the code.
absl::Status WithFieldViolation(absl::Status status, absl::string_view field,
                                absl::string_view description);

// The type URL under which a google.rpc.RetryInfo is attached.
inline constexpr absl::string_view kRetryInfoTypeUrl = "type.googleapis.com/google.rpc.RetryInfo";

// RESOURCE_EXHAUSTED with `message` and a RetryInfo payload: try again after
// `retry_delay`.
absl::Status ResourceExhaustedWithRetry(absl::string_view message, absl::Duration retry_delay);

// UNAVAILABLE with `message` and a RetryInfo payload: this process cannot
// take the call (it is shutting down); try again after `retry_delay`, where
// the balancer sends the caller next.
absl::Status UnavailableWithRetry(absl::string_view message, absl::Duration retry_delay);

// The RetryInfo delay attached to `status`, or nullopt.
absl::optional<absl::Duration> GetRetryDelay(const absl::Status& status);

// The field violations attached to `status`, or empty when there are none.
std::vector<FieldViolation> GetFieldViolations(const absl::Status& status);

// Converts for the wire: code, message, and every payload as a
// google.rpc.Status detail.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts from the wire, keeping the details as payloads.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The canonical name of a status code, e.g. "UNAVAILABLE".
absl::string_view StatusCodeName(absl::StatusCode code);

}  // namespace switchboard

#define SWITCHBOARD_STATUS_CONCAT_INNER_(a, b) a##b
#define SWITCHBOARD_STATUS_CONCAT_(a, b) SWITCHBOARD_STATUS_CONCAT_INNER_(a, b)

// Returns `expr`'s status from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    const ::absl::Status switchboard_status_ = (expr);   \
    if (ABSL_PREDICT_FALSE(!switchboard_status_.ok())) { \
      return switchboard_status_;                        \
    }                                                    \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, else
// moves the value into `lhs`, which may be a declaration.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                                              \
  SWITCHBOARD_ASSIGN_OR_RETURN_IMPL_(SWITCHBOARD_STATUS_CONCAT_(switchboard_statusor_, __LINE__), \
                                     lhs, rexpr)

#define SWITCHBOARD_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                       \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {                      \
    return std::move(statusor).status();                         \
  }                                                              \
  lhs = std::move(statusor).value()

#endif  // SWITCHBOARD_COMMON_STATUS_H_
