// switchboard-routing: decides which business group and team owns an issue.
#include <memory>

#include "absl/flags/flag.h"
#include "common/logging.h"
#include "common/rocks.h"
#include "common/server.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

ABSL_FLAG(
    std::string, ruleset_file, "",
    "a Ruleset in protobuf JSON or YAML, applied at start when it differs from the active one");

int main(int argc, char** argv) {
  using namespace switchboard;
  InitProcess(argc, argv, "switchboard-routing",
              "Routes issues to the team that owns them.\n"
              "Usage: switchboard-routing --grpc_listen=HOST:PORT --metrics_listen=HOST:PORT "
              "--data_dir=DIR [--ruleset_file=FILE]");
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  auto db = Database::Open({.path = *data_dir});
  if (!db.ok()) return ExitWithError(db.status());

  // The generated base answers every RPC with UNIMPLEMENTED for now.
  routing::v1::RoutingService::CallbackService service;
  auto host = ServiceHost::Start(ServerConfigFromFlags(),
                                 {{&service, routing::v1::RoutingService::service_full_name()}},
                                 std::make_shared<prometheus::Registry>());
  if (!host.ok()) return ExitWithError(host.status());
  return (*host)->RunUntilSignal();
}
