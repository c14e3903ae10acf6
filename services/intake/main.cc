// switchboard-intake: the system of record for issues. Flags in, then
// IntakeServer (intake_server.h) does the rest.
#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/partition.h"
#include "common/security.h"
#include "common/server.h"
#include "common/storage_health.h"
#include "services/intake/intake_server.h"

ABSL_FLAG(std::string, routing_target, "127.0.0.1:50052",
          "RoutingService address, host:port; or the replicas' addresses, comma-separated, or a "
          "dns:/// name with one address per replica, balanced round robin");
ABSL_FLAG(std::string, notification_target, "127.0.0.1:50053",
          "NotificationService address, host:port; with notification partitions, every "
          "partition's address in partition order, comma-separated");
ABSL_FLAG(absl::Duration, census_interval, absl::Seconds(15),
          "how often the open issues are counted for the metrics");
ABSL_FLAG(bool, noop_submit, false,
          "benchmarks only: SubmitIssue answers at once, storing nothing (the baseline of "
          "bench/submit_bench.sh)");
ABSL_FLAG(absl::Duration, peer_timeout, absl::Seconds(5),
          "deadline of each call to routing and notification");

namespace switchboard::intake {
namespace {

int Run() {
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  auto registry = std::make_shared<prometheus::Registry>();
  auto security = LoadSecurity(SecurityFilesFromFlags(), Clock::Real(), *registry);
  if (!security.ok()) return ExitWithError(security.status());
  security->gate->LimitCapacity(CapacityLimitsFromFlags(), "intake", *registry);
  auto partitioning = PartitioningFromFlags();
  if (!partitioning.ok()) return ExitWithError(partitioning.status());
  auto storage = StorageTuningFromFlags();
  if (!storage.ok()) return ExitWithError(storage.status());
  auto server = IntakeServer::Start({
      .data_dir = *data_dir,
      .storage = *storage,
      .server = SecureServerConfigFromFlags(*security),
      .gate = security->gate.get(),
      .partitioning = *partitioning,
      .routing_target = absl::GetFlag(FLAGS_routing_target),
      .notification_target = absl::GetFlag(FLAGS_notification_target),
      .peer_credentials = security->peer_credentials,
      .peer_timeout = absl::GetFlag(FLAGS_peer_timeout),
      .census_interval = absl::GetFlag(FLAGS_census_interval),
      .noop_submit = absl::GetFlag(FLAGS_noop_submit),
      .registry = registry,
  });
  if (!server.ok()) return ExitWithError(server.status());
  return (*server)->RunUntilSignal();
}

}  // namespace
}  // namespace switchboard::intake

int main(int argc, char** argv) {
  switchboard::InitProcess(
      argc, argv, "switchboard-intake",
      "Accepts customer issues durably and drives them to closure.\n"
      "Usage: switchboard-intake --grpc_listen=HOST:PORT --metrics_listen=HOST:PORT "
      "--data_dir=DIR --routing_target=HOST:PORT --notification_target=HOST:PORT\n"
      "       [--partition=I --partition_addresses=A0,A1,...]");
  return switchboard::intake::Run();
}
