// switchboard-intake: the system of record for issues.
#include <memory>

#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/logging.h"
#include "common/rocks.h"
#include "common/server.h"
#include "services/intake/intake_core.h"
#include "services/intake/intake_service.h"
#include "services/intake/issue_store.h"

ABSL_FLAG(std::string, routing_target, "127.0.0.1:50052", "RoutingService address, host:port");
ABSL_FLAG(std::string, notification_target, "127.0.0.1:50053",
          "NotificationService address, host:port");

namespace switchboard::intake {
namespace {

int Run() {
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  auto db = Database::Open({.path = *data_dir, .column_families = IssueStore::ColumnFamilies()});
  if (!db.ok()) return ExitWithError(db.status());
  log::Info("peers", {{"routing_target", absl::GetFlag(FLAGS_routing_target)},
                      {"notification_target", absl::GetFlag(FLAGS_notification_target)}});
  auto registry = std::make_shared<prometheus::Registry>();
  CommitQueue commits((*db)->db(), {.name = "intake"}, registry.get());
  IssueStore store(**db);
  auto core = IntakeCore::Create(store, commits, *registry, Clock::Real());
  if (!core.ok()) return ExitWithError(core.status());
  IntakeService service(**core);
  auto host = ServiceHost::Start(ServerConfigFromFlags(),
                                 {{&service, v1::IntakeService::service_full_name()}}, registry);
  if (!host.ok()) return ExitWithError(host.status());
  return (*host)->RunUntilSignal();
}

}  // namespace
}  // namespace switchboard::intake

int main(int argc, char** argv) {
  switchboard::InitProcess(
      argc, argv, "switchboard-intake",
      "Accepts customer issues durably and drives them to closure.\n"
      "Usage: switchboard-intake --grpc_listen=HOST:PORT --metrics_listen=HOST:PORT "
      "--data_dir=DIR --routing_target=HOST:PORT --notification_target=HOST:PORT");
  return switchboard::intake::Run();
}
