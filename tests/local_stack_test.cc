// The README's run command and demo, as a newcomer runs them:
// scripts/run-local.sh starts the three services and says so, scripts/demo.sh
// drives a batch of issues through them, SIGTERM stops all three cleanly,
// and a second run finds the data of the first.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/testing/subprocess.h"

namespace switchboard {
namespace {

using ::testing::HasSubstr;

// Whether 127.0.0.1:port can be bound now.
bool PortFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return free;
}

// A base port with base..base+2 free: below the kernel's ephemeral range
// (32768+), where other tests' FreePort() picks, and away from 50051.
int FreeBasePort() {
  std::mt19937 random(std::random_device{}());
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int base = std::uniform_int_distribution<>(20000, 32000)(random);
    if (PortFree(base) && PortFree(base + 1) && PortFree(base + 2)) return base;
  }
  return 0;
}

class LocalStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int base = FreeBasePort();
    const int metrics_base = FreeBasePort();
    ASSERT_NE(base, 0);
    ASSERT_NE(metrics_base, 0);
    const std::string bin_dir = testing::BinaryPath("switchboard-intake");
    const std::string build_dir =
        std::filesystem::path(bin_dir).parent_path().parent_path().string();
    setenv("SWITCHBOARD_SKIP_BUILD", "1", 1);
    setenv("SWITCHBOARD_BUILD_DIR", build_dir.c_str(), 1);
    setenv("SWITCHBOARD_DATA_DIR", (dir_ + "/var").c_str(), 1);
    setenv("SWITCHBOARD_BASE_PORT", absl::StrCat(base).c_str(), 1);
    setenv("SWITCHBOARD_METRICS_BASE_PORT", absl::StrCat(metrics_base).c_str(), 1);
    // What run-local.sh tells the user to export for non-standard ports.
    setenv("SWITCHBOARD_INTAKE", absl::StrCat("127.0.0.1:", base).c_str(), 1);
    setenv("SWITCHBOARD_ROUTING", absl::StrCat("127.0.0.1:", base + 1).c_str(), 1);
    setenv("SWITCHBOARD_NOTIFICATION", absl::StrCat("127.0.0.1:", base + 2).c_str(), 1);
  }

  void TearDown() override {
    stack_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts scripts/run-local.sh; returns what it prints until it is ready.
  std::string StartStack() {
    auto stack = testing::Subprocess::Start(
        "/bin/bash", {SWITCHBOARD_SOURCE_DIR "/scripts/run-local.sh"},
        {.capture_stdout = true, .stderr_path = dir_ + "/run-local.err"});
    EXPECT_TRUE(stack.ok()) << stack.status();
    if (!stack.ok()) return "";
    stack_ = *std::move(stack);
    std::string output;
    while (true) {
      absl::StatusOr<std::string> line = stack_->ReadLine(absl::Seconds(90));
      if (!line.ok()) break;
      absl::StrAppend(&output, *line, "\n");
      if (absl::StrContains(*line, "tail -f")) break;  // the last line it prints
    }
    return output;
  }

  // Runs a command to its end; its exit code and stdout.
  std::pair<int, std::string> Run(const std::string& program,
                                  const std::vector<std::string>& args) {
    auto process = testing::Subprocess::Start(
        program, args, {.capture_stdout = true, .stderr_path = dir_ + "/command.err"});
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return {-1, ""};
    const std::string output = (*process)->ReadToEnd(absl::Seconds(120));
    absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(30));
    return {code.ok() ? *code : -1, output};
  }

  std::pair<int, std::string> Cli(const std::vector<std::string>& args) {
    return Run(testing::BinaryPath("switchboard"), args);
  }

  const std::string dir_ = testing::MakeTempDir("local_stack_test");
  std::unique_ptr<testing::Subprocess> stack_;
};

TEST_F(LocalStackTest, RunTheStackAndTheDemoStopAndRunAgainWithTheData) {
  const std::string started = StartStack();
  ASSERT_THAT(started, HasSubstr("Switchboard is running")) << started;
  for (const char* service : {"routing", "notification", "intake"}) {
    EXPECT_THAT(started, HasSubstr(service));
  }
  EXPECT_THAT(started, HasSubstr("export SWITCHBOARD_INTAKE="));
  EXPECT_EQ(Cli({"health"}).first, 0);

  const auto [demo_code, demo] = Run("/bin/bash", {SWITCHBOARD_SOURCE_DIR "/scripts/demo.sh"});
  ASSERT_EQ(demo_code, 0) << demo;
  EXPECT_THAT(demo, HasSubstr("2. Routed by the active ruleset"));
  EXPECT_THAT(demo, HasSubstr("4. What they were told"));
  EXPECT_THAT(demo, HasSubstr("5. A regional outage"));
  EXPECT_THAT(demo, HasSubstr("5 customers (1 STRATEGIC, 2 ENTERPRISE, 2 SMB)"));
  EXPECT_THAT(demo, HasSubstr("PROBLEM_ESCALATED"));
  EXPECT_THAT(demo, HasSubstr("submitters/jane.doe@contoso.com"));
  EXPECT_THAT(demo, ::testing::Not(HasSubstr("Starting the local stack")));  // it used ours

  stack_->Signal(SIGTERM);
  absl::StatusOr<int> stopped = stack_->Wait(absl::Seconds(60));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0);
  EXPECT_EQ(Cli({"health", "--timeout=1s"}).first, 1);  // all three are gone

  ASSERT_THAT(StartStack(), HasSubstr("Switchboard is running"));
  const auto [list_code, list] = Cli({"issue", "list", "--filter", "source=support-portal"});
  EXPECT_EQ(list_code, 0);
  EXPECT_THAT(list, HasSubstr("Battery drains overnight in sleep"));  // the demo's, kept
  stack_->Signal(SIGINT);                                             // Ctrl-C
  stopped = stack_->Wait(absl::Seconds(60));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0);
}

}  // namespace
}  // namespace switchboard
