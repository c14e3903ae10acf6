#include "services/intake/intake_server.h"

#include <utility>

#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/page_token.h"
#include "common/rocks_metrics.h"
#include "common/status.h"
#include "common/storage_health.h"

namespace switchboard::intake {

absl::StatusOr<std::unique_ptr<IntakeServer>> IntakeServer::Start(Options options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("a data directory is required");
  if (options.registry == nullptr) options.registry = std::make_shared<prometheus::Registry>();
  Clock& clock = *options.clock;
  RETURN_IF_ERROR(LoadPageTokenKey(options.data_dir));
  auto server = absl::WrapUnique(new IntakeServer(std::move(options)));
  const Options& opts = server->options_;

  std::vector<NotificationPeer*> notifications = opts.notification_partitions;
  if (notifications.empty() && opts.notification != nullptr) notifications = {opts.notification};
  if (notifications.empty()) {
    for (absl::string_view target : absl::StrSplit(opts.notification_target, ',')) {
      server->grpc_notifications_.push_back(
          MakeGrpcNotificationPeer(std::string(target), opts.peer_credentials, opts.peer_timeout));
      notifications.push_back(server->grpc_notifications_.back().get());
    }
  }
  ASSIGN_OR_RETURN(
      server->store_,
      IntakeStore::Open({.path = opts.data_dir,
                         .tuning = opts.storage,
                         .sync = opts.sync,
                         .notification_partitions = static_cast<int>(notifications.size()),
                         .partitioning = opts.partitioning,
                         .capacity = opts.gate != nullptr ? &opts.gate->capacity() : nullptr},
                        clock, opts.registry.get()));
  server->metrics_ = std::make_unique<IntakeMetrics>(*opts.registry);
  RoutingPeer* routing = opts.routing;
  if (routing == nullptr) {
    server->grpc_routing_ =
        MakeGrpcRoutingPeer(opts.routing_target, opts.peer_credentials, opts.peer_timeout);
    routing = server->grpc_routing_.get();
  }
  log::Info("peers",
            {{"routing_target", opts.routing != nullptr ? "in-process" : opts.routing_target},
             {"notification_target",
              server->grpc_notifications_.empty() ? "in-process" : opts.notification_target},
             {"notification_partitions", static_cast<int64_t>(notifications.size())},
             {"partition", opts.partitioning.self},
             {"partitions", opts.partitioning.count()}});
  if (opts.partitioning.partitioned()) {
    server->partitions_ = std::make_unique<PartitionPeers>(
        "intake", opts.partitioning, opts.peer_credentials,
        std::vector<std::string>{v1::IntakeService::service_full_name()});
  }
  IntakeStore& store = *server->store_;
  IntakeMetrics& metrics = *server->metrics_;
  ASSIGN_OR_RETURN(server->core_, IntakeCore::Create(store, metrics, *routing, clock));
  IntakeCore& core = *server->core_;

  server->route_loop_ =
      std::make_unique<RouteLoop>(store.route_tasks(), core, *routing, metrics, clock, opts.route);
  for (int partition = 0; partition < store.event_partitions(); ++partition) {
    server->publish_loops_.push_back(std::make_unique<PublishLoop>(
        store.events(partition), core, *notifications[partition], metrics, clock, opts.publish));
  }
  server->sla_timer_loop_ = std::make_unique<SlaTimerLoop>(store.timers_changed(), core, *routing,
                                                           metrics, clock, opts.timers);
  for (int partition = 0; partition < store.intake_partitions(); ++partition) {
    server->mail_peers_.push_back(partition == store.partition()
                                      ? MakeLocalMailPeer(core)
                                      : MakeGrpcMailPeer(opts.partitioning.addresses[partition],
                                                         opts.peer_credentials, opts.peer_timeout));
    server->mail_loops_.push_back(
        std::make_unique<MailLoop>(store.partition(), store.mail(partition), core,
                                   *server->mail_peers_.back(), metrics, clock, opts.mail));
  }
  server->route_loop_->Start();
  for (auto& loop : server->mail_loops_) loop->Start();
  for (auto& loop : server->publish_loops_) loop->Start();
  server->sla_timer_loop_->Start();
  server->census_ =
      std::make_unique<OpenIssueCensus>(core.open_issues(), metrics, clock, opts.census_interval);
  server->census_->Start();
  server->problem_census_ =
      std::make_unique<ProblemCensus>(store.problems(), metrics, clock, opts.census_interval);
  server->problem_census_->Start();

  if (opts.noop_submit)
    log::Warning("--noop_submit: SubmitIssue stores nothing (benchmark baseline)");
  server->service_ = std::make_unique<IntakeService>(
      core, IntakeService::Options{.noop_submit = opts.noop_submit,
                                   .gate = opts.gate != nullptr ? opts.gate : &CallGate::Open(),
                                   .peers = server->partitions_.get()});
  server->partition_service_ = std::make_unique<IntakePartitionService>(
      core, store.intake_partitions(), opts.gate != nullptr ? *opts.gate : CallGate::Open());
  ASSIGN_OR_RETURN(
      server->host_,
      ServiceHost::Start(
          opts.server,
          {{server->service_.get(), v1::IntakeService::service_full_name()},
           {server->partition_service_.get(), v1::IntakePartitionService::service_full_name()}},
          opts.registry, {std::make_shared<DatabaseMetrics>(store.db())}));
  // A drain refuses new calls with a retry hint while those in flight finish
  // (the shared open gate of tests is left alone).
  if (opts.gate != nullptr) server->host_->SetCapacity(&opts.gate->capacity());
  ReportStorage(store.db(), *server->host_, "intake");
  return server;
}

IntakeServer::~IntakeServer() { Shutdown(); }

int IntakeServer::RunUntilSignal() {
  const int code = host_->RunUntilSignal();
  Shutdown();
  return code;
}

void IntakeServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (host_ != nullptr) host_->Shutdown();
  if (census_ != nullptr) census_->Stop();
  if (problem_census_ != nullptr) problem_census_->Stop();
  if (route_loop_ != nullptr) route_loop_->Stop();
  for (auto& loop : publish_loops_) loop->Stop();
  if (sla_timer_loop_ != nullptr) sla_timer_loop_->Stop();
  for (auto& loop : mail_loops_) loop->Stop();
  if (store_ != nullptr) store_->commits().Stop();
  if (store_ != nullptr) StopReportingStorage(store_->db());
}

}  // namespace switchboard::intake
