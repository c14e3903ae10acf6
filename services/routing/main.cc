// switchboard-routing: decides which business group and team owns an issue.
// Flags in, then RoutingServer (routing_server.h) does the rest.
#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/security.h"
#include "common/server.h"
#include "services/routing/routing_server.h"

ABSL_FLAG(
    std::string, ruleset_file, "",
    "a Ruleset in protobuf JSON or YAML, applied at start when it differs from the active one");

namespace switchboard::routing {
namespace {

int Run() {
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  auto registry = std::make_shared<prometheus::Registry>();
  auto security = LoadSecurity(SecurityFilesFromFlags(), Clock::Real(), *registry);
  if (!security.ok()) return ExitWithError(security.status());
  auto server = RoutingServer::Start({.data_dir = *data_dir,
                                      .server = SecureServerConfigFromFlags(*security),
                                      .gate = security->gate.get(),
                                      .ruleset_file = absl::GetFlag(FLAGS_ruleset_file),
                                      .registry = registry});
  if (!server.ok()) return ExitWithError(server.status());
  return (*server)->RunUntilSignal();
}

}  // namespace
}  // namespace switchboard::routing

int main(int argc, char** argv) {
  switchboard::InitProcess(argc, argv, "switchboard-routing",
                           "Routes issues to the team that owns them.\n"
                           "Usage: switchboard-routing --grpc_listen=HOST:PORT "
                           "--metrics_listen=HOST:PORT --data_dir=DIR [--ruleset_file=FILE]");
  return switchboard::routing::Run();
}
