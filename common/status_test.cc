#include "common/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/rpc/status.pb.h"

namespace switchboard {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PropagateErrorsAndValues) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_EQ(CheckEven(3).message(), "odd");
}

TEST(StatusTest, FieldViolationsSurviveTheWire) {
  const absl::Status original = InvalidArgumentWithViolations(
      "invalid issue", {{"issue.title", "required"}, {"issue.severity", "unknown"}});
  const grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(wire.error_message(), "invalid issue");

  // Any gRPC client reads a google.rpc.Status with a BadRequest detail.
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(wire.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  EXPECT_EQ(bad_request.field_violations(1).field(), "issue.severity");

  const absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(GetFieldViolations(back), ElementsAre(FieldsAre("issue.title", "required"),
                                                    FieldsAre("issue.severity", "unknown")));
}

TEST(StatusTest, RetryInfoSurvivesTheWire) {
  const grpc::Status wire =
      ToGrpcStatus(ResourceExhaustedWithRetry("over the limit", absl::Milliseconds(1500)));
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(wire.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.details(0).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_EQ(retry.retry_delay().nanos(), 500'000'000);
  EXPECT_EQ(GetRetryDelay(FromGrpcStatus(wire)), absl::Milliseconds(1500));
  EXPECT_EQ(GetRetryDelay(absl::UnavailableError("down")), absl::nullopt);
}

TEST(StatusTest, PlainErrorsHaveNoDetails) {
  const grpc::Status wire = ToGrpcStatus(absl::NotFoundError("no issue issues/x"));
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(wire.error_details().empty());
  EXPECT_TRUE(GetFieldViolations(FromGrpcStatus(wire)).empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(StatusTest, CodeNames) {
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kUnavailable), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kUnauthenticated), "UNAUTHENTICATED");
}

}  // namespace
}  // namespace switchboard
