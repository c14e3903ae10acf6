// switchboard-intake: the system of record for issues.
#include <memory>

#include "absl/flags/flag.h"
#include "common/logging.h"
#include "common/rocks.h"
#include "common/server.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

ABSL_FLAG(std::string, routing_target, "127.0.0.1:50052", "RoutingService address, host:port");
ABSL_FLAG(std::string, notification_target, "127.0.0.1:50053",
          "NotificationService address, host:port");

int main(int argc, char** argv) {
  using namespace switchboard;
  InitProcess(argc, argv, "switchboard-intake",
              "Accepts customer issues durably and drives them to closure.\n"
              "Usage: switchboard-intake --grpc_listen=HOST:PORT --metrics_listen=HOST:PORT "
              "--data_dir=DIR --routing_target=HOST:PORT --notification_target=HOST:PORT");
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  auto db = Database::Open({.path = *data_dir});
  if (!db.ok()) return ExitWithError(db.status());
  log::Info("peers", {{"routing_target", absl::GetFlag(FLAGS_routing_target)},
                      {"notification_target", absl::GetFlag(FLAGS_notification_target)}});

  // The generated base answers every RPC with UNIMPLEMENTED for now.
  intake::v1::IntakeService::CallbackService service;
  auto host = ServiceHost::Start(ServerConfigFromFlags(),
                                 {{&service, intake::v1::IntakeService::service_full_name()}},
                                 std::make_shared<prometheus::Registry>());
  if (!host.ok()) return ExitWithError(host.status());
  return (*host)->RunUntilSignal();
}
