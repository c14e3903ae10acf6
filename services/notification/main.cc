// switchboard-notification: durable per-subscriber logs of issue events.
// Flags in, then NotificationServer (notification_server.h) does the rest.
#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/partition.h"
#include "common/security.h"
#include "common/server.h"
#include "common/storage_health.h"
#include "services/notification/notification_server.h"

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
  auto registry = std::make_shared<prometheus::Registry>();
  auto security = LoadSecurity(SecurityFilesFromFlags(), Clock::Real(), *registry);
  if (!security.ok()) return ExitWithError(security.status());
  security->gate->LimitCapacity(CapacityLimitsFromFlags(), "notification", *registry);
  auto partitioning = PartitioningFromFlags();
  if (!partitioning.ok()) return ExitWithError(partitioning.status());
  auto storage = StorageTuningFromFlags();
  if (!storage.ok()) return ExitWithError(storage.status());
  auto server = NotificationServer::Start({
      .data_dir = *data_dir,
      .storage = *storage,
      .server = SecureServerConfigFromFlags(*security),
      .gate = security->gate.get(),
      .partitioning = *partitioning,
      .peer_credentials = security->peer_credentials,
      .push = {.timeout = absl::GetFlag(FLAGS_push_timeout),
               .initial_backoff = absl::GetFlag(FLAGS_push_initial_backoff),
               .max_backoff = absl::GetFlag(FLAGS_push_max_backoff),
               .max_attempts = absl::GetFlag(FLAGS_push_max_attempts),
               .credentials = security->peer_credentials},
      .maintenance = {.interval = absl::GetFlag(FLAGS_maintenance_interval),
                      .retention = absl::GetFlag(FLAGS_retention)},
      .registry = registry,
  });
  if (!server.ok()) return ExitWithError(server.status());
  return (*server)->RunUntilSignal();
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
