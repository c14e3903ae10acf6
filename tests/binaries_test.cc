// Starts each real service binary the way the local stack does and checks
// what every binary must offer: health, reflection, /metrics that promtool
// accepts, refusal of bad flags, and a clean exit on SIGTERM.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/probes.h"
#include "common/testing/subprocess.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace switchboard {
namespace {

using grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;

struct Binary {
  std::string name;
  std::string service;
  std::string own_flag;  // one flag only this binary has
};

void PrintTo(const Binary& binary, std::ostream* out) { *out << binary.name; }

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

class BinaryTest : public ::testing::TestWithParam<Binary> {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  const std::string dir_ = testing::MakeTempDir("binaries_test");
};

HealthCheckResponse::ServingStatus Health(const std::string& target, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  return stub->Check(&context, request, &response).ok() ? response.status()
                                                        : HealthCheckResponse::UNKNOWN;
}

TEST_P(BinaryTest, ServesHealthReflectionAndMetricsThenExitsCleanly) {
  const Binary& binary = GetParam();
  const std::string target = absl::StrCat("127.0.0.1:", testing::FreePort());
  const int metrics_port = testing::FreePort();
  auto child = testing::Subprocess::Start(
      testing::BinaryPath(binary.name),
      {"--grpc_listen=" + target, absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port),
       "--data_dir=" + dir_ + "/data"},
      {.stderr_path = dir_ + "/stderr.log"});
  ASSERT_TRUE(child.ok()) << child.status();
  const absl::Status serving = testing::WaitForServing(target, absl::Seconds(30));
  ASSERT_TRUE(serving.ok()) << serving << "\n" << ReadFile(dir_ + "/stderr.log");

  EXPECT_EQ(Health(target, binary.service), HealthCheckResponse::SERVING);
  auto services = testing::ListServicesViaReflection(target);
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, Contains(binary.service));

  auto page = testing::FetchMetrics(metrics_port);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(*page, ::testing::HasSubstr("grpc_server_handled_total{grpc_code=\"OK\""));
  const std::string metrics_file = dir_ + "/metrics.txt";
  std::ofstream(metrics_file) << *page;
  const std::string check = absl::StrCat("promtool check metrics < ", metrics_file);
  EXPECT_EQ(std::system(check.c_str()), 0) << "promtool rejected:\n" << *page;

  EXPECT_TRUE(std::filesystem::exists(dir_ + "/data/CURRENT"))
      << "RocksDB not opened in --data_dir";

  (*child)->Signal(SIGTERM);
  auto exit_code = (*child)->Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST_P(BinaryTest, RefusesToStartWithoutDataDir) {
  auto child = testing::Subprocess::Start(testing::BinaryPath(GetParam().name),
                                          {"--grpc_listen=127.0.0.1:0"},
                                          {.stderr_path = dir_ + "/stderr.log"});
  ASSERT_TRUE(child.ok());
  auto exit_code = (*child)->Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok());
  EXPECT_NE(*exit_code, 0);
  EXPECT_THAT(ReadFile(dir_ + "/stderr.log"), ::testing::HasSubstr("--data_dir is required"));
}

TEST_P(BinaryTest, HelpListsTheCommonAndTheServiceFlags) {
  auto child = testing::Subprocess::Start(testing::BinaryPath(GetParam().name), {"--help"},
                                          {.capture_stdout = true});
  ASSERT_TRUE(child.ok());
  std::string help;
  for (int lines = 0; lines < 1000; ++lines) {
    absl::StatusOr<std::string> line = (*child)->ReadLine(absl::Seconds(30));
    if (!line.ok()) break;
    absl::StrAppend(&help, *line, "\n");
  }
  for (const std::string& flag : {std::string("--data_dir"), std::string("--grpc_listen"),
                                  std::string("--drain_grace"), GetParam().own_flag}) {
    EXPECT_THAT(help, ::testing::HasSubstr(flag + " (")) << help;
  }
  (*child)->Wait(absl::Seconds(30)).IgnoreError();
}

TEST_P(BinaryTest, RefusesPlaintextOffLoopback) {
  auto child =
      testing::Subprocess::Start(testing::BinaryPath(GetParam().name),
                                 {"--grpc_listen=0.0.0.0:0", "--data_dir=" + dir_ + "/data"},
                                 {.stderr_path = dir_ + "/stderr.log"});
  ASSERT_TRUE(child.ok());
  auto exit_code = (*child)->Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok());
  EXPECT_NE(*exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Services, BinaryTest,
    ::testing::Values(
        Binary{"switchboard-intake", "switchboard.intake.v1.IntakeService", "--peer_timeout"},
        Binary{"switchboard-routing", "switchboard.routing.v1.RoutingService", "--ruleset_file"},
        Binary{"switchboard-notification", "switchboard.notification.v1.NotificationService",
               "--push_max_attempts"}),
    [](const ::testing::TestParamInfo<Binary>& param) {
      return param.param.name.substr(std::string("switchboard-").size());
    });

}  // namespace
}  // namespace switchboard
