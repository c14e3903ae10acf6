#include "common/metrics.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/echo.grpc.pb.h"
#include "common/testing/echo_service.h"
#include "common/testing/probes.h"

namespace switchboard {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;
using testing::EchoService;
using ::testing::HasSubstr;

TEST(BoundedLabelTest, KeepsTheFirstValuesAndReportsLaterOnesAsOther) {
  BoundedLabel label("source", 2);
  EXPECT_EQ(label("crm"), "crm");
  EXPECT_EQ(label("crm"), "crm");
  EXPECT_EQ(label("portal"), "portal");
  EXPECT_EQ(label("web"), "other");
  EXPECT_EQ(label("crm"), "crm") << "a value kept stays itself after the limit is reached";
  EXPECT_EQ(label("portal"), "portal");
  EXPECT_EQ(label("mail"), "other");
  EXPECT_EQ(label("web"), "other") << "a value once reported as other stays other";
}

TEST(BoundedLabelTest, ALimitOfZeroReportsEveryValueAsOther) {
  BoundedLabel label("rule", 0);
  EXPECT_EQ(label("a"), "other");
  EXPECT_EQ(label(""), "other");
}

TEST(BoundedLabelTest, EveryDistinctValueTakesAPlaceTheEmptyOneIncluded) {
  BoundedLabel label("rule", 3);
  EXPECT_EQ(label(""), "");
  EXPECT_EQ(label("other"), "other");
  EXPECT_EQ(label("x"), "x");
  EXPECT_EQ(label("y"), "other");
  EXPECT_EQ(label(""), "");
}

TEST(LatencyBucketsTest, RiseFromOneHundredMicrosecondsToTenSeconds) {
  const std::vector<double>& buckets = LatencyBuckets();
  ASSERT_FALSE(buckets.empty());
  EXPECT_DOUBLE_EQ(buckets.front(), 0.0001);
  EXPECT_DOUBLE_EQ(buckets.back(), 10);
  for (size_t i = 1; i < buckets.size(); ++i) {
    EXPECT_LT(buckets[i - 1], buckets[i]) << "bucket " << i;
  }
  EXPECT_EQ(&LatencyBuckets(), &buckets) << "one shared vector";
}

TEST(MetricsEndpointTest, ServesItsCollectablesAndKeepsThemAlive) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("metrics_test_things_total")
      .Help("Things.")
      .Register(*registry)
      .Add({{"kind", "a"}})
      .Increment(3);
  std::weak_ptr<prometheus::Registry> weak = registry;
  auto endpoint = MetricsEndpoint::Start("127.0.0.1:0", {std::move(registry)});
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  ASSERT_GT((*endpoint)->port(), 0);
  EXPECT_FALSE(weak.expired()) << "the endpoint holds what it serves";
  absl::StatusOr<std::string> page = testing::FetchMetrics((*endpoint)->port());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(testing::SampleValue(*page, R"(metrics_test_things_total{kind="a"})").value_or(-1), 3);
  endpoint->reset();
  EXPECT_TRUE(weak.expired()) << "and lets go of it when it stops";
}

TEST(MetricsEndpointTest, AnAddressInUseIsUnavailableNamingTheAddress) {
  auto first = MetricsEndpoint::Start("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string listen = absl::StrCat("127.0.0.1:", (*first)->port());
  auto second = MetricsEndpoint::Start(listen, {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("cannot serve metrics on " + listen));
}

// One series of a family: its labels and values.
struct Sample {
  std::map<std::string, std::string> labels;
  prometheus::ClientMetric metric;
};

// The labels of EchoService.Echo's series.
std::map<std::string, std::string> EchoLabels() {
  return {{"grpc_type", "unary"},
          {"grpc_service", "switchboard.testing.EchoService"},
          {"grpc_method", "Echo"}};
}

// An EchoService with the metrics interceptor, on 127.0.0.1.
class GrpcServerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&echo_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(MakeGrpcServerMetrics(registry_, {"switchboard.testing.EchoService"}));
    builder.experimental().SetInterceptorCreators(std::move(creators));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    target_ = absl::StrCat("127.0.0.1:", port);
    stub_ = EchoService::NewStub(grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  grpc::Status Echo(int code) {
    EchoRequest request;
    request.set_code(code);
    request.set_payload("hi");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    EchoResponse response;
    return stub_->Echo(&context, request, &response);
  }

  // The samples of family `name`, collected now.
  std::vector<Sample> Samples(const std::string& name) {
    std::vector<Sample> samples;
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        Sample sample{{}, metric};
        for (const auto& label : metric.label) sample.labels[label.name] = label.value;
        samples.push_back(std::move(sample));
      }
    }
    return samples;
  }

  // Counter values of family `name` by the value of label `by`.
  std::map<std::string, double> CountersBy(const std::string& name, const std::string& by) {
    std::map<std::string, double> values;
    for (const Sample& sample : Samples(name)) {
      values[sample.labels.at(by)] += sample.metric.counter.value;
    }
    return values;
  }

  prometheus::Registry registry_;
  testing::EchoServiceImpl echo_;
  std::unique_ptr<grpc::Server> server_;
  std::string target_;
  std::unique_ptr<EchoService::Stub> stub_;
};

TEST_F(GrpcServerMetricsTest, CountsCallsMessagesAndCodesByMethod) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Echo(0).ok());
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Echo(static_cast<int>(grpc::StatusCode::NOT_FOUND)).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  ASSERT_EQ(Echo(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  for (const char* family : {"grpc_server_started_total", "grpc_server_msg_received_total",
                             "grpc_server_msg_sent_total"}) {
    const std::vector<Sample> samples = Samples(family);
    ASSERT_EQ(samples.size(), 1u) << family;
    EXPECT_EQ(samples[0].labels, EchoLabels()) << family;
  }
  EXPECT_EQ(Samples("grpc_server_started_total")[0].metric.counter.value, 6);
  EXPECT_EQ(Samples("grpc_server_msg_received_total")[0].metric.counter.value, 6);
  EXPECT_EQ(Samples("grpc_server_msg_sent_total")[0].metric.counter.value, 3)
      << "a call that fails sends no message";

  // A series for each code that happened, none for the others.
  EXPECT_EQ(CountersBy("grpc_server_handled_total", "grpc_code"),
            (std::map<std::string, double>{{"INVALID_ARGUMENT", 1}, {"NOT_FOUND", 2}, {"OK", 3}}));
  for (const Sample& sample : Samples("grpc_server_handled_total")) {
    std::map<std::string, std::string> labels = sample.labels;
    labels.erase("grpc_code");
    EXPECT_EQ(labels, EchoLabels());
  }
}

TEST_F(GrpcServerMetricsTest, HandlingTimeIsAHistogramOverTheLatencyBuckets) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Echo(0).ok());
  ASSERT_EQ(Echo(static_cast<int>(grpc::StatusCode::INTERNAL)).error_code(),
            grpc::StatusCode::INTERNAL);
  const std::vector<Sample> samples = Samples("grpc_server_handling_seconds");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels, EchoLabels());
  const prometheus::ClientMetric::Histogram& histogram = samples[0].metric.histogram;
  EXPECT_EQ(histogram.sample_count, 5u) << "failed calls are timed too";
  EXPECT_GE(histogram.sample_sum, 0);
  EXPECT_LT(histogram.sample_sum, 50) << "five calls of at most the 10 s deadline each";
  std::vector<double> bounds;
  for (const auto& bucket : histogram.bucket) bounds.push_back(bucket.upper_bound);
  std::vector<double> expected = LatencyBuckets();
  expected.push_back(std::numeric_limits<double>::infinity());
  EXPECT_EQ(bounds, expected);
  ASSERT_FALSE(histogram.bucket.empty());
  EXPECT_EQ(histogram.bucket.back().cumulative_count, 5u);
}

// grpc::StatusCode has no fixed underlying type, so only 0..31 are values it
// can hold (UBSan refuses 42); 20 is one of those that names no code.
TEST_F(GrpcServerMetricsTest, ACodeOutsideTheSeventeenIsCountedAsUnknown) {
  const grpc::Status status = Echo(20);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(CountersBy("grpc_server_handled_total", "grpc_code"),
            (std::map<std::string, double>{{"UNKNOWN", 1}}));
}

// gRPC makes an interceptor for a call of any path, named by the caller
// before it is authenticated; only the methods the server hosts get series of
// their own, and every other path shares one.
TEST_F(GrpcServerMetricsTest, CallsOfMethodsTheServerDoesNotHaveShareOneSeries) {
  ASSERT_TRUE(Echo(0).ok());
  for (const char* method : {"/switchboard.testing.EchoService/NoSuchMethod",
                             "/attacker.Random123/Method456", "/no-slash-at-all"}) {
    testing::RawCallResult result = testing::CallRaw(target_, method, "");
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << method;
  }
  for (const char* family :
       {"grpc_server_started_total", "grpc_server_handled_total", "grpc_server_handling_seconds",
        "grpc_server_msg_received_total", "grpc_server_msg_sent_total"}) {
    std::set<std::pair<std::string, std::string>> methods;
    for (const Sample& sample : Samples(family)) {
      methods.emplace(sample.labels.at("grpc_service"), sample.labels.at("grpc_method"));
    }
    EXPECT_EQ(methods, (std::set<std::pair<std::string, std::string>>{
                           {"switchboard.testing.EchoService", "Echo"}, {"unknown", "unknown"}}))
        << family;
  }
  std::map<std::string, double> unknown_codes;
  for (const Sample& sample : Samples("grpc_server_handled_total")) {
    if (sample.labels.at("grpc_method") == "unknown") {
      unknown_codes[sample.labels.at("grpc_code")] += sample.metric.counter.value;
    }
  }
  EXPECT_EQ(unknown_codes, (std::map<std::string, double>{{"UNIMPLEMENTED", 3}}));
}

}  // namespace
}  // namespace switchboard
