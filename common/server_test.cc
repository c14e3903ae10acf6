#include "common/server.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/sync.h"
#include "common/testing/echo_service.h"
#include "common/testing/probes.h"
#include "common/testing/subprocess.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace switchboard {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using testing::EchoRequest;
using testing::EchoResponse;
using testing::EchoService;
using ::testing::IsSupersetOf;

constexpr char kEchoName[] = "switchboard.testing.EchoService";

std::shared_ptr<grpc::Channel> Connect(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

grpc::Status Echo(EchoService::Stub& stub, const EchoRequest& request,
                  EchoResponse* response = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  EchoResponse ignored;
  return stub.Echo(&context, request, response == nullptr ? &ignored : response);
}

HealthCheckResponse::ServingStatus CheckHealth(Health::Stub& stub, const std::string& service,
                                               grpc::Status* status_out = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub.Check(&context, request, &response);
  if (status_out != nullptr) *status_out = status;
  return status.ok() ? response.status() : HealthCheckResponse::UNKNOWN;
}

class ServiceHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.grpc_listen = "127.0.0.1:0";
    config.metrics_listen = "127.0.0.1:0";
    config.drain_grace = absl::Seconds(5);
    auto host = ServiceHost::Start(config, {{&echo_, kEchoName}}, registry_);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    echo_stub_ = EchoService::NewStub(Connect(host_->grpc_port()));
    health_stub_ = Health::NewStub(Connect(host_->grpc_port()));
  }

  testing::EchoServiceImpl echo_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<EchoService::Stub> echo_stub_;
  std::unique_ptr<Health::Stub> health_stub_;
};

TEST_F(ServiceHostTest, HealthIsServingOverallAndPerService) {
  EXPECT_EQ(CheckHealth(*health_stub_, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth(*health_stub_, kEchoName), HealthCheckResponse::SERVING);
  grpc::Status status;
  CheckHealth(*health_stub_, "no.such.Service", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  host_->SetServing(false);
  EXPECT_EQ(CheckHealth(*health_stub_, ""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(*health_stub_, kEchoName), HealthCheckResponse::NOT_SERVING);
}

TEST_F(ServiceHostTest, AnEntryOfItsOwnFollowsSetHealthAlone) {
  host_->SetHealth("switchboard.storage", true);
  EXPECT_EQ(CheckHealth(*health_stub_, "switchboard.storage"), HealthCheckResponse::SERVING);
  host_->SetHealth("switchboard.storage", false);
  EXPECT_EQ(CheckHealth(*health_stub_, "switchboard.storage"), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(*health_stub_, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth(*health_stub_, kEchoName), HealthCheckResponse::SERVING);
}

// Fail(): health turns NOT_SERVING at once, and RunUntilSignal() (here
// already waiting on another thread) drains and returns kExitFailed without
// any signal.
TEST_F(ServiceHostTest, FailTurnsHealthDownAndMakesRunUntilSignalReturnThree) {
  int code = -1;
  std::thread runner([&] { code = host_->RunUntilSignal(); });
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_EQ(CheckHealth(*health_stub_, ""), HealthCheckResponse::SERVING);
  host_->Fail(absl::UnavailableError("the disk died"));
  host_->Fail(absl::InternalError("a second failure is ignored"));
  EXPECT_EQ(host_->failure().message(), "the disk died");
  runner.join();
  EXPECT_EQ(code, ServiceHost::kExitFailed);
  grpc::Status status;
  CheckHealth(*health_stub_, "", &status);
  EXPECT_FALSE(status.ok()) << "the server should have stopped";
}

TEST_F(ServiceHostTest, FailTurnsHealthNotServingAtOnce) {
  host_->Fail(absl::UnavailableError("the disk died"));
  EXPECT_EQ(CheckHealth(*health_stub_, ""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(CheckHealth(*health_stub_, kEchoName), HealthCheckResponse::NOT_SERVING);
}

TEST_F(ServiceHostTest, ReflectionListsTheServices) {
  auto services =
      testing::ListServicesViaReflection(absl::StrCat("127.0.0.1:", host_->grpc_port()));
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services,
              IsSupersetOf({std::string(kEchoName), std::string("grpc.health.v1.Health")}));
}

TEST_F(ServiceHostTest, InterceptorCountsCallsByMethodAndCode) {
  EchoRequest ok;
  ok.set_key("ok");
  EchoRequest not_found;
  not_found.set_code(static_cast<int>(grpc::StatusCode::NOT_FOUND));
  ASSERT_TRUE(Echo(*echo_stub_, ok).ok());
  ASSERT_TRUE(Echo(*echo_stub_, ok).ok());
  ASSERT_EQ(Echo(*echo_stub_, not_found).error_code(), grpc::StatusCode::NOT_FOUND);

  auto page = testing::FetchMetrics(host_->metrics_port());
  ASSERT_TRUE(page.ok()) << page.status();
  const std::string labels =
      R"(grpc_method="Echo",grpc_service="switchboard.testing.EchoService",grpc_type="unary")";
  EXPECT_EQ(*testing::SampleValue(*page, absl::StrCat("grpc_server_started_total{", labels, "}")),
            3);
  EXPECT_EQ(*testing::SampleValue(
                *page, absl::StrCat(R"(grpc_server_handled_total{grpc_code="OK",)", labels, "}")),
            2);
  EXPECT_EQ(
      *testing::SampleValue(
          *page, absl::StrCat(R"(grpc_server_handled_total{grpc_code="NOT_FOUND",)", labels, "}")),
      1);
  EXPECT_EQ(*testing::SampleValue(*page,
                                  absl::StrCat("grpc_server_handling_seconds_count{", labels, "}")),
            3);
  EXPECT_EQ(
      *testing::SampleValue(*page, absl::StrCat("grpc_server_msg_received_total{", labels, "}")),
      3);
}

TEST_F(ServiceHostTest, MetricsPageCarriesTheProcessMetricsAndTheBuild) {
  auto page = testing::FetchMetrics(host_->metrics_port());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_GT(*testing::SampleValue(*page, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(*testing::SampleValue(*page, "process_virtual_memory_bytes"), 1 << 20);
  EXPECT_GE(*testing::SampleValue(*page, "process_cpu_seconds_total"), 0);
  EXPECT_GT(*testing::SampleValue(*page, "process_open_fds"), 3);
  EXPECT_GT(*testing::SampleValue(*page, "process_max_fds"), 3);
  EXPECT_GT(*testing::SampleValue(*page, "process_threads"), 1);
  const double started = *testing::SampleValue(*page, "process_start_time_seconds");
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_GT(started, now - 600);
  EXPECT_LE(started, now + 1);
  EXPECT_EQ(*testing::SampleValue(
                *page, R"(switchboard_build_info{version=")" SWITCHBOARD_VERSION R"("})"),
            1);
}

TEST_F(ServiceHostTest, RequestsOverOneMebibyteAreResourceExhausted) {
  EchoRequest big;
  big.set_payload(std::string(kMaxRequestBytes + 1, 'x'));
  EXPECT_EQ(Echo(*echo_stub_, big).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EchoRequest fits;
  fits.set_payload(std::string(kMaxRequestBytes - 64, 'x'));
  EXPECT_TRUE(Echo(*echo_stub_, fits).ok());
}

TEST_F(ServiceHostTest, ShutdownDrainsCallsInFlightAndRefusesNewOnes) {
  // Watch health: it must go NOT_SERVING as the drain starts.
  grpc::ClientContext watch_context;
  HealthCheckRequest watch_request;
  auto watch = health_stub_->Watch(&watch_context, watch_request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  ASSERT_EQ(update.status(), HealthCheckResponse::SERVING);

  EchoRequest slow;
  slow.set_key("slow");
  slow.set_delay_ms(500);
  grpc::Status slow_status;
  std::thread in_flight([&] { slow_status = Echo(*echo_stub_, slow); });
  while (echo_.attempts("slow") == 0) absl::SleepFor(absl::Milliseconds(1));

  std::thread shutdown([&] { host_->Shutdown(); });
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  in_flight.join();
  shutdown.join();
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();

  EchoRequest late;
  EXPECT_EQ(Echo(*echo_stub_, late).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ServiceHostStartTest, RefusesPlaintextOffLoopbackUnlessAllowed) {
  testing::EchoServiceImpl echo;
  ServerConfig config;
  config.grpc_listen = "0.0.0.0:0";
  auto host =
      ServiceHost::Start(config, {{&echo, kEchoName}}, std::make_shared<prometheus::Registry>());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(host.status().message()), ::testing::HasSubstr("--allow_insecure"));
}

TEST(ServiceHostStartTest, TlsWithoutCallerAuthenticationIsInsecureToo) {
  testing::EchoServiceImpl echo;
  ServerConfig config;
  config.grpc_listen = "0.0.0.0:0";
  config.credentials = grpc::SslServerCredentials(grpc::SslServerCredentialsOptions());
  auto host =
      ServiceHost::Start(config, {{&echo, kEchoName}}, std::make_shared<prometheus::Registry>());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(host.status().message()), ::testing::HasSubstr("--access_policy_file"));
}

TEST(ServiceHostStartTest, HealthPortServesOnlyHealthAndFollowsTheService) {
  testing::EchoServiceImpl echo;
  ServerConfig config;
  config.health_listen = "127.0.0.1:0";
  auto host =
      ServiceHost::Start(config, {{&echo, kEchoName}}, std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(host.ok()) << host.status();
  ASSERT_NE((*host)->health_port(), 0);
  auto health = Health::NewStub(Connect((*host)->health_port()));
  EXPECT_EQ(CheckHealth(*health, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth(*health, kEchoName), HealthCheckResponse::SERVING);
  auto echo_on_health = EchoService::NewStub(Connect((*host)->health_port()));
  EXPECT_EQ(Echo(*echo_on_health, EchoRequest()).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  (*host)->SetServing(false);
  EXPECT_EQ(CheckHealth(*health, ""), HealthCheckResponse::NOT_SERVING);
  (*host)->SetServing(true);
  (*host)->Shutdown();
  grpc::Status after;
  CheckHealth(*health, "", &after);
  EXPECT_FALSE(after.ok()) << "the health port stops with the server";
}

TEST(ServiceHostStartTest, ConnectionsOlderThanMaxConnectionAgeAreAskedToGoAway) {
  testing::EchoServiceImpl echo;
  ServerConfig config;
  config.max_connection_age = absl::Milliseconds(500);
  auto host =
      ServiceHost::Start(config, {{&echo, kEchoName}}, std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(host.ok()) << host.status();
  std::shared_ptr<grpc::Channel> channel = Connect((*host)->grpc_port());
  auto stub = EchoService::NewStub(channel);
  ASSERT_TRUE(Echo(*stub, EchoRequest()).ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  // The server's GOAWAY leaves the channel without its connection: a client
  // balancing over DNS resolves again before it reconnects.
  EXPECT_TRUE(channel->WaitForStateChange(GRPC_CHANNEL_READY,
                                          absl::ToChronoTime(absl::Now() + absl::Seconds(10))));
  EXPECT_TRUE(Echo(*stub, EchoRequest()).ok()) << "the next call connects again";
}

TEST(ServiceHostStartTest, MaxConcurrentStreamsHoldsFurtherCallsInTheClient) {
  testing::EchoServiceImpl echo;
  ServerConfig config;
  config.max_concurrent_streams = 1;
  auto host =
      ServiceHost::Start(config, {{&echo, kEchoName}}, std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(host.ok()) << host.status();
  auto stub = EchoService::NewStub(Connect((*host)->grpc_port()));
  ASSERT_TRUE(Echo(*stub, EchoRequest()).ok());  // the connection and its settings
  // Two calls of 300 ms on one connection that allows one stream: the
  // second starts only when the first ends.
  EchoRequest slow;
  slow.set_delay_ms(300);
  const absl::Time start = absl::Now();
  std::thread first([&] { EXPECT_TRUE(Echo(*stub, slow).ok()); });
  std::thread second([&] { EXPECT_TRUE(Echo(*stub, slow).ok()); });
  first.join();
  second.join();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(590));
}

TEST(ServiceHostStartTest, BusyPortIsUnavailable) {
  testing::EchoServiceImpl echo;
  ServerConfig config;
  auto first =
      ServiceHost::Start(config, {{&echo, kEchoName}}, std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(first.ok());
  config.grpc_listen = absl::StrCat("127.0.0.1:", (*first)->grpc_port());
  testing::EchoServiceImpl echo2;
  auto second =
      ServiceHost::Start(config, {{&echo2, kEchoName}}, std::make_shared<prometheus::Registry>());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST(LoopbackTest, RecognisesLoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackListenAddress("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackListenAddress("127.1.2.3:0"));
  EXPECT_TRUE(IsLoopbackListenAddress("localhost:80"));
  EXPECT_TRUE(IsLoopbackListenAddress("[::1]:50051"));
  EXPECT_FALSE(IsLoopbackListenAddress("0.0.0.0:50051"));
  EXPECT_FALSE(IsLoopbackListenAddress("[::]:50051"));
  EXPECT_FALSE(IsLoopbackListenAddress("10.0.0.1:50051"));
  EXPECT_FALSE(IsLoopbackListenAddress("127.0.0.1"));
  EXPECT_FALSE(IsLoopbackListenAddress("[::1:50051"));
}

// The whole process: SIGTERM while a call is in flight → health goes
// NOT_SERVING, the call completes, the process exits 0.
TEST(ServerProcessTest, SigtermDrainsAndExitsZero) {
  const int port = testing::FreePort();
  const std::string target = absl::StrCat("127.0.0.1:", port);
  auto child = testing::Subprocess::Start(
      testing::BinaryPath("echo_server"),
      {absl::StrCat("--grpc_listen=", target), "--drain_grace=10s", "--shutdown_delay=300ms"}, {});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(testing::WaitForServing(target, absl::Seconds(20)).ok());

  auto echo = EchoService::NewStub(Connect(port));
  auto health = Health::NewStub(Connect(port));
  EchoRequest slow;
  slow.set_key("slow");
  slow.set_delay_ms(1500);
  grpc::Status slow_status;
  OneShot started;
  std::thread in_flight([&] {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    EchoResponse response;
    context.set_wait_for_ready(true);
    started.Fire();
    slow_status = echo->Echo(&context, slow, &response);
  });
  started.Wait();
  absl::SleepFor(absl::Milliseconds(200));  // let the call reach the server
  (*child)->Signal(SIGTERM);

  // During shutdown_delay the server still answers, with NOT_SERVING.
  HealthCheckResponse::ServingStatus seen = HealthCheckResponse::SERVING;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (seen == HealthCheckResponse::SERVING && absl::Now() < deadline) {
    seen = CheckHealth(*health, "");
  }
  EXPECT_EQ(seen, HealthCheckResponse::NOT_SERVING);

  in_flight.join();
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();
  auto exit_code = (*child)->Wait(absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace switchboard
