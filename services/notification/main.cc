// switchboard-notification: durable per-subscriber logs of issue events.
#include <memory>

#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/rocks.h"
#include "common/server.h"
#include "services/notification/log_store.h"
#include "services/notification/notification_core.h"
#include "services/notification/notification_service.h"

namespace switchboard::notification {
namespace {

int Run() {
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  auto db = Database::Open({.path = *data_dir, .column_families = LogStore::ColumnFamilies()});
  if (!db.ok()) return ExitWithError(db.status());
  auto registry = std::make_shared<prometheus::Registry>();
  CommitQueue commits((*db)->db(), {.name = "notification"}, registry.get());
  LogStore store(**db);
  NotificationMetrics metrics(*registry);
  NotificationCore core(store, commits, metrics, Clock::Real());
  NotificationService service(core);
  auto host =
      ServiceHost::Start(ServerConfigFromFlags(),
                         {{&service, v1::NotificationService::service_full_name()}}, registry);
  if (!host.ok()) return ExitWithError(host.status());
  // Streams never end on their own: end them as the drain starts.
  (*host)->SetDrainHook([&core] { core.Shutdown(); });
  return (*host)->RunUntilSignal();
}

}  // namespace
}  // namespace switchboard::notification

int main(int argc, char** argv) {
  switchboard::InitProcess(argc, argv, "switchboard-notification",
                           "Stores issue events per subscriber and delivers them.\n"
                           "Usage: switchboard-notification --grpc_listen=HOST:PORT "
                           "--metrics_listen=HOST:PORT --data_dir=DIR");
  return switchboard::notification::Run();
}
