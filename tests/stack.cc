#include "tests/stack.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace switchboard::testing {
namespace {

const char* NameOf(Service service) {
  switch (service) {
    case Service::kRouting:
      return "routing";
    case Service::kNotification:
      return "notification";
    case Service::kIntake:
      return "intake";
  }
  return "";
}

size_t IndexOf(Service service) { return static_cast<size_t>(service); }

}  // namespace

Stack::Stack(Options options) : options_(std::move(options)), dir_(MakeTempDir("stack")) {
  if (options_.ruleset_file.empty()) {
    options_.ruleset_file = SWITCHBOARD_SOURCE_DIR "/config/sample-ruleset.yaml";
  }
  for (std::string& target : targets_) target = absl::StrCat("127.0.0.1:", FreePort());
  for (std::string& target : health_targets_) target = absl::StrCat("127.0.0.1:", FreePort());
  for (int& port : metrics_ports_) port = FreePort();
  const auto channel = [](const std::string& target) {
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  };
  intake_ = intake::v1::IntakeService::NewStub(channel(target(Service::kIntake)));
  routing_ = routing::v1::RoutingService::NewStub(channel(target(Service::kRouting)));
  notification_ =
      notification::v1::NotificationService::NewStub(channel(target(Service::kNotification)));
}

absl::StatusOr<std::unique_ptr<Stack>> Stack::Launch(Options options) {
  std::unique_ptr<Stack> stack(new Stack(std::move(options)));
  for (Service service : {Service::kRouting, Service::kNotification, Service::kIntake}) {
    if (absl::Status status = stack->Start(service); !status.ok()) return status;
  }
  return stack;
}

Stack::~Stack() {
  for (auto& process : processes_) process.reset();  // SIGKILL and reap
  std::filesystem::remove_all(dir_);
}

absl::Status Stack::Start(Service service) {
  const std::string name = NameOf(service);
  std::vector<std::string> args = {
      "--grpc_listen=" + target(service),
      absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port(service)),
      "--data_dir=" + dir_ + "/" + name};
  for (const std::string& flag : options_.common_flags) {
    args.push_back(absl::StrReplaceAll(flag, {{"{service}", "switchboard-" + name}}));
  }
  if (options_.health_port) args.push_back("--health_listen=" + health_target(service));
  switch (service) {
    case Service::kRouting:
      args.push_back("--ruleset_file=" + options_.ruleset_file);
      break;
    case Service::kNotification:
      args.insert(args.end(), options_.notification_flags.begin(),
                  options_.notification_flags.end());
      break;
    case Service::kIntake:
      for (const auto& [peer, flag] :
           {std::pair{Service::kRouting, "--routing_target="},
            std::pair{Service::kNotification, "--notification_target="}}) {
        args.push_back(flag + (options_.intake_peer_target
                                   ? options_.intake_peer_target(peer, target(peer))
                                   : target(peer)));
      }
      args.insert(args.end(), options_.intake_flags.begin(), options_.intake_flags.end());
      break;
  }
  auto process =
      Subprocess::Start(BinaryPath("switchboard-" + name), args,
                        {.stderr_path = dir_ + "/" + name + ".log", .env = options_.env});
  if (!process.ok()) return process.status();
  processes_[IndexOf(service)] = *std::move(process);
  const std::string& probe = options_.health_port ? health_target(service) : target(service);
  if (absl::Status serving = WaitForServing(probe, absl::Seconds(30)); !serving.ok()) {
    return absl::UnavailableError(
        absl::StrCat(name, " did not start: ", serving.message(), "\n", LogTail(service)));
  }
  return absl::OkStatus();
}

void Stack::Kill(Service service) {
  if (auto& process = processes_[IndexOf(service)]; process != nullptr) process->Kill();
}

int Stack::pid(Service service) const {
  const auto& process = processes_[IndexOf(service)];
  return process == nullptr ? 0 : process->pid();
}

void Stack::Signal(Service service, int signal) {
  if (auto& process = processes_[IndexOf(service)]; process != nullptr) process->Signal(signal);
}

absl::Status Stack::Stop(Service service) {
  auto& process = processes_[IndexOf(service)];
  if (process == nullptr) return absl::OkStatus();
  process->Signal(SIGTERM);
  absl::StatusOr<int> code = process->Wait(absl::Seconds(30));
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(NameOf(service), " exited with ", *code));
  }
  return absl::OkStatus();
}

const std::string& Stack::target(Service service) const { return targets_[IndexOf(service)]; }

const std::string& Stack::health_target(Service service) const {
  return health_targets_[IndexOf(service)];
}

std::string Stack::LogTail(Service service) const {
  std::ifstream file(dir_ + "/" + NameOf(service) + ".log");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return text.substr(text.size() > 4000 ? text.size() - 4000 : 0);
}

}  // namespace switchboard::testing
