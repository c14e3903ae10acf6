// switchboard-notification: durable per-subscriber logs of issue events.
#include <memory>

#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/page_token.h"
#include "common/rocks.h"
#include "common/rocks_metrics.h"
#include "common/security.h"
#include "common/server.h"
#include "services/notification/log_store.h"
#include "services/notification/maintenance.h"
#include "services/notification/notification_core.h"
#include "services/notification/notification_service.h"
#include "services/notification/push_deliverer.h"
#include "services/notification/push_store.h"

ABSL_FLAG(absl::Duration, push_timeout, absl::Seconds(5), "deadline of each push (Deliver) call");
ABSL_FLAG(absl::Duration, push_initial_backoff, absl::Milliseconds(200),
          "backoff ceiling after a push's first failure; doubles with each further failure");
ABSL_FLAG(absl::Duration, push_max_backoff, absl::Minutes(1), "the highest backoff ceiling");
ABSL_FLAG(int, push_max_attempts, 8, "attempts of one notification before it is dead-lettered");
ABSL_FLAG(absl::Duration, retention, absl::Hours(24 * 7),
          "how long acknowledged notifications and push attempts are kept");
ABSL_FLAG(absl::Duration, maintenance_interval, absl::Seconds(15),
          "how often the backlog is measured and old records compacted");

namespace switchboard::notification {
namespace {

int Run() {
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  if (absl::Status key = LoadPageTokenKey(*data_dir); !key.ok()) return ExitWithError(key);
  std::vector<ColumnFamily> families = LogStore::ColumnFamilies();
  for (ColumnFamily& family : PushStore::ColumnFamilies()) families.push_back(std::move(family));
  auto db = Database::Open({.path = *data_dir, .column_families = families});
  if (!db.ok()) return ExitWithError(db.status());
  PushDeliverer::Options push_options{.timeout = absl::GetFlag(FLAGS_push_timeout),
                                      .initial_backoff = absl::GetFlag(FLAGS_push_initial_backoff),
                                      .max_backoff = absl::GetFlag(FLAGS_push_max_backoff),
                                      .max_attempts = absl::GetFlag(FLAGS_push_max_attempts)};
  if (push_options.max_attempts < 1 || push_options.timeout <= absl::ZeroDuration() ||
      push_options.initial_backoff <= absl::ZeroDuration() ||
      push_options.max_backoff < push_options.initial_backoff) {
    return ExitWithError(absl::InvalidArgumentError(
        "--push_max_attempts must be at least 1, --push_timeout and --push_initial_backoff "
        "positive, and --push_max_backoff at least --push_initial_backoff"));
  }
  const Maintenance::Options maintenance_options{
      .interval = absl::GetFlag(FLAGS_maintenance_interval),
      .retention = absl::GetFlag(FLAGS_retention)};
  if (maintenance_options.interval <= absl::ZeroDuration() ||
      maintenance_options.retention <= absl::ZeroDuration()) {
    return ExitWithError(
        absl::InvalidArgumentError("--maintenance_interval and --retention must be positive"));
  }
  auto registry = std::make_shared<prometheus::Registry>();
  auto security = LoadSecurity(SecurityFilesFromFlags(), Clock::Real(), *registry);
  if (!security.ok()) return ExitWithError(security.status());
  push_options.credentials = security->peer_credentials;
  CommitQueue commits((*db)->db(), {.name = "notification"}, registry.get());
  LogStore logs(**db);
  PushStore pushes(**db);
  NotificationMetrics metrics(*registry);
  NotificationCore core(logs, commits, metrics, Clock::Real());
  PushDeliverer deliverer(core, logs, pushes, commits, metrics, Clock::Real(), push_options);
  if (absl::Status started = deliverer.Start(); !started.ok()) return ExitWithError(started);
  Maintenance maintenance(logs, pushes, commits, metrics, Clock::Real(), maintenance_options);
  maintenance.Start();
  NotificationService service(core, deliverer, *security->gate);
  auto host = ServiceHost::Start(SecureServerConfigFromFlags(*security),
                                 {{&service, v1::NotificationService::service_full_name()}},
                                 registry, {std::make_shared<DatabaseMetrics>(**db)});
  if (!host.ok()) return ExitWithError(host.status());
  // Streams never end on their own: end them as the drain starts.
  (*host)->SetDrainHook([&core] { core.Shutdown(); });
  const int code = (*host)->RunUntilSignal();
  maintenance.Stop();
  deliverer.Stop();
  return code;
}

}  // namespace
}  // namespace switchboard::notification

int main(int argc, char** argv) {
  switchboard::InitProcess(argc, argv, "switchboard-notification",
                           "Stores issue events per subscriber and delivers them.\n"
                           "Usage: switchboard-notification --grpc_listen=HOST:PORT "
                           "--metrics_listen=HOST:PORT --data_dir=DIR [--push_max_attempts=N "
                           "--retention=DURATION ...]");
  return switchboard::notification::Run();
}
