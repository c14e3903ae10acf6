// switchboard-routing: decides which business group and team owns an issue.
// Flags in, then RoutingServer (routing_server.h) does the rest.
#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/security.h"
#include "common/server.h"
#include "common/storage_health.h"
#include "services/routing/routing_server.h"

ABSL_FLAG(
    std::string, ruleset_file, "",
    "a Ruleset in protobuf JSON or YAML, applied at start when it differs from the active one");
ABSL_FLAG(std::string, ruleset_source, "",
          "host:port of the routing writer to follow: this replica keeps no revision store, "
          "decides on the writer's active ruleset and forwards ApplyRuleset to it (--data_dir "
          "is then not needed)");

namespace switchboard::routing {
namespace {

int Run() {
  const std::string ruleset_source = absl::GetFlag(FLAGS_ruleset_source);
  absl::StatusOr<std::string> data_dir = std::string();
  if (ruleset_source.empty()) data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  auto registry = std::make_shared<prometheus::Registry>();
  auto security = LoadSecurity(SecurityFilesFromFlags(), Clock::Real(), *registry);
  if (!security.ok()) return ExitWithError(security.status());
  security->gate->LimitCapacity(CapacityLimitsFromFlags(), "routing", *registry);
  auto storage = StorageTuningFromFlags();
  if (!storage.ok()) return ExitWithError(storage.status());
  auto server = RoutingServer::Start({.data_dir = *data_dir,
                                      .storage = *storage,
                                      .server = SecureServerConfigFromFlags(*security),
                                      .gate = security->gate.get(),
                                      .ruleset_file = absl::GetFlag(FLAGS_ruleset_file),
                                      .ruleset_source = ruleset_source,
                                      .peer_credentials = security->peer_credentials,
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
                           "--metrics_listen=HOST:PORT --data_dir=DIR [--ruleset_file=FILE]\n"
                           "   or: switchboard-routing --grpc_listen=HOST:PORT "
                           "--ruleset_source=WRITER_HOST:PORT (a replica)");
  return switchboard::routing::Run();
}
