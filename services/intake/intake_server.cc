#include "services/intake/intake_server.h"

#include <utility>

#include "common/logging.h"
#include "common/page_token.h"
#include "common/rocks_metrics.h"
#include "common/status.h"

namespace switchboard::intake {

absl::StatusOr<std::unique_ptr<IntakeServer>> IntakeServer::Start(Options options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("a data directory is required");
  if (options.registry == nullptr) options.registry = std::make_shared<prometheus::Registry>();
  Clock& clock = *options.clock;
  RETURN_IF_ERROR(LoadPageTokenKey(options.data_dir));
  auto server = absl::WrapUnique(new IntakeServer(std::move(options)));
  const Options& opts = server->options_;

  ASSIGN_OR_RETURN(server->store_, IntakeStore::Open({.path = opts.data_dir, .sync = opts.sync},
                                                     clock, opts.registry.get()));
  server->metrics_ = std::make_unique<IntakeMetrics>(*opts.registry);
  RoutingPeer* routing = opts.routing;
  if (routing == nullptr) {
    server->grpc_routing_ =
        MakeGrpcRoutingPeer(opts.routing_target, opts.peer_credentials, opts.peer_timeout);
    routing = server->grpc_routing_.get();
  }
  NotificationPeer* notification = opts.notification;
  if (notification == nullptr) {
    server->grpc_notification_ = MakeGrpcNotificationPeer(opts.notification_target,
                                                          opts.peer_credentials, opts.peer_timeout);
    notification = server->grpc_notification_.get();
  }
  log::Info("peers",
            {{"routing_target", opts.routing != nullptr ? "in-process" : opts.routing_target},
             {"notification_target",
              opts.notification != nullptr ? "in-process" : opts.notification_target}});
  IntakeStore& store = *server->store_;
  IntakeMetrics& metrics = *server->metrics_;
  ASSIGN_OR_RETURN(server->core_, IntakeCore::Create(store, metrics, *routing, clock));
  IntakeCore& core = *server->core_;

  server->route_loop_ =
      std::make_unique<RouteLoop>(store.route_tasks(), core, *routing, metrics, clock, opts.route);
  server->publish_loop_ = std::make_unique<PublishLoop>(store.events(), core, *notification,
                                                        metrics, clock, opts.publish);
  server->sla_timer_loop_ = std::make_unique<SlaTimerLoop>(store.timers_changed(), core, *routing,
                                                           metrics, clock, opts.timers);
  server->route_loop_->Start();
  server->publish_loop_->Start();
  server->sla_timer_loop_->Start();
  server->census_ =
      std::make_unique<OpenIssueCensus>(store.issues(), metrics, clock, opts.census_interval);
  server->census_->Start();

  if (opts.noop_submit)
    log::Warning("--noop_submit: SubmitIssue stores nothing (benchmark baseline)");
  server->service_ = std::make_unique<IntakeService>(
      core, IntakeService::Options{.noop_submit = opts.noop_submit,
                                   .gate = opts.gate != nullptr ? opts.gate : &CallGate::Open()});
  ASSIGN_OR_RETURN(
      server->host_,
      ServiceHost::Start(opts.server,
                         {{server->service_.get(), v1::IntakeService::service_full_name()}},
                         opts.registry, {std::make_shared<DatabaseMetrics>(store.db())}));
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
  if (route_loop_ != nullptr) route_loop_->Stop();
  if (publish_loop_ != nullptr) publish_loop_->Stop();
  if (sla_timer_loop_ != nullptr) sla_timer_loop_->Stop();
  if (store_ != nullptr) store_->commits().Stop();
}

}  // namespace switchboard::intake
