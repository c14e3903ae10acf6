#include "common/handler.h"

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/server.h"
#include "common/status.h"
#include "common/testing/echo.grpc.pb.h"
#include "common/testing/probes.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace switchboard {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;
using testing::EchoService;
using ::testing::HasSubstr;

constexpr char kEcho[] = "/switchboard.testing.EchoService/Echo";

// Echo over ServeUnary: payload "async" answers from another thread,
// "invalid" fails with a field violation.
class RawEcho final : public EchoService::WithRawCallbackMethod_Echo<EchoService::Service> {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* response) override {
    return ServeUnary<EchoRequest>(
        CallGate::Open(), context, request, response,
        [](const Caller& /*caller*/, const EchoRequest& parsed, UnaryResponder responder) {
          EchoResponse reply;
          reply.set_payload(parsed.payload());
          if (parsed.payload() == "invalid") {
            responder.Finish(InvalidArgumentWithViolations("bad", {{"payload", "not allowed"}}));
          } else if (parsed.payload() == "async") {
            std::thread([responder, reply] { responder.Finish(reply); }).detach();
          } else {
            responder.Finish(absl::StatusOr<EchoResponse>(reply));
          }
        });
  }
};

class ServeUnaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = ServiceHost::Start({}, {{&echo_, EchoService::service_full_name()}},
                                   std::make_shared<prometheus::Registry>());
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    target_ = absl::StrCat("127.0.0.1:", host_->grpc_port());
  }

  testing::RawCallResult Call(const std::string& payload) {
    EchoRequest request;
    request.set_payload(payload);
    return testing::CallRaw(target_, kEcho, request.SerializeAsString());
  }

  RawEcho echo_;
  std::unique_ptr<ServiceHost> host_;
  std::string target_;
};

TEST_F(ServeUnaryTest, AnswersValidRequests) {
  for (const std::string& payload :
       std::vector<std::string>{"hello", "async", std::string(100000, 'x')}) {
    testing::RawCallResult result = Call(payload);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    EchoResponse response;
    ASSERT_TRUE(response.ParseFromString(result.response));
    EXPECT_EQ(response.payload(), payload);
  }
}

TEST_F(ServeUnaryTest, InvalidUtf8IsInvalidArgumentNotUnimplemented) {
  // Field 5 (payload, a proto3 string) holding the bytes ff fe.
  const std::string bytes("\x2a\x02\xff\xfe", 4);
  testing::RawCallResult result = testing::CallRaw(target_, kEcho, bytes);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("switchboard.testing.EchoRequest"));
  EXPECT_THAT(result.status.error_message(), HasSubstr("UTF-8"));
}

TEST_F(ServeUnaryTest, MalformedBytesAreInvalidArgument) {
  for (const std::string& bytes :
       {std::string("\x2a\x10short", 7), std::string("\xff\xff\xff", 3)}) {
    EXPECT_EQ(testing::CallRaw(target_, kEcho, bytes).status.error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(ServeUnaryTest, ErrorsCarryFieldViolations) {
  testing::RawCallResult result = Call("invalid");
  ASSERT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(result.status.error_details()));
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "payload");
}

}  // namespace
}  // namespace switchboard
