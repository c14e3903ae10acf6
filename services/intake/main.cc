// switchboard-intake: the system of record for issues.
#include <memory>

#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/logging.h"
#include "common/page_token.h"
#include "common/rocks.h"
#include "common/rocks_metrics.h"
#include "common/security.h"
#include "common/server.h"
#include "services/intake/census.h"
#include "services/intake/dispatcher.h"
#include "services/intake/intake_core.h"
#include "services/intake/intake_service.h"
#include "services/intake/issue_store.h"

ABSL_FLAG(std::string, routing_target, "127.0.0.1:50052", "RoutingService address, host:port");
ABSL_FLAG(std::string, notification_target, "127.0.0.1:50053",
          "NotificationService address, host:port");
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
  if (absl::Status key = LoadPageTokenKey(*data_dir); !key.ok()) return ExitWithError(key);
  auto db = Database::Open({.path = *data_dir, .column_families = IssueStore::ColumnFamilies()});
  if (!db.ok()) return ExitWithError(db.status());
  log::Info("peers", {{"routing_target", absl::GetFlag(FLAGS_routing_target)},
                      {"notification_target", absl::GetFlag(FLAGS_notification_target)}});
  auto registry = std::make_shared<prometheus::Registry>();
  auto security = LoadSecurity(SecurityFilesFromFlags(), Clock::Real(), *registry);
  if (!security.ok()) return ExitWithError(security.status());
  CommitQueue commits((*db)->db(), {.name = "intake"}, registry.get());
  IssueStore store(**db);
  IntakeMetrics metrics(*registry);
  const absl::Duration timeout = absl::GetFlag(FLAGS_peer_timeout);
  auto routing =
      MakeGrpcRoutingPeer(absl::GetFlag(FLAGS_routing_target), security->peer_credentials, timeout);
  auto notification = MakeGrpcNotificationPeer(absl::GetFlag(FLAGS_notification_target),
                                               security->peer_credentials, timeout);
  auto core = IntakeCore::Create(store, commits, metrics, *routing, Clock::Real());
  if (!core.ok()) return ExitWithError(core.status());
  Dispatcher dispatcher(**core, store, commits, *routing, *notification, metrics, Clock::Real(),
                        {});
  if (absl::Status started = dispatcher.Start(); !started.ok()) return ExitWithError(started);
  OpenIssueCensus census(store, metrics, Clock::Real(), absl::GetFlag(FLAGS_census_interval));
  census.Start();
  const bool noop_submit = absl::GetFlag(FLAGS_noop_submit);
  if (noop_submit) log::Warning("--noop_submit: SubmitIssue stores nothing (benchmark baseline)");
  IntakeService service(**core, {.noop_submit = noop_submit, .gate = security->gate.get()});
  auto host = ServiceHost::Start(SecureServerConfigFromFlags(*security),
                                 {{&service, v1::IntakeService::service_full_name()}}, registry,
                                 {std::make_shared<DatabaseMetrics>(**db)});
  if (!host.ok()) return ExitWithError(host.status());
  const int code = (*host)->RunUntilSignal();
  census.Stop();
  dispatcher.Stop();
  return code;
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
