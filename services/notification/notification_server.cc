#include "services/notification/notification_server.h"

#include <utility>

#include "absl/memory/memory.h"
#include "common/page_token.h"
#include "common/rocks_metrics.h"
#include "common/status.h"
#include "common/storage_health.h"

namespace switchboard::notification {

absl::StatusOr<std::unique_ptr<NotificationServer>> NotificationServer::Start(Options options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("a data directory is required");
  const PushDeliverer::Options& push = options.push;
  if (push.max_attempts < 1 || push.timeout <= absl::ZeroDuration() ||
      push.initial_backoff <= absl::ZeroDuration() || push.max_backoff < push.initial_backoff) {
    return absl::InvalidArgumentError(
        "--push_max_attempts must be at least 1, --push_timeout and --push_initial_backoff "
        "positive, and --push_max_backoff at least --push_initial_backoff");
  }
  if (options.maintenance.interval <= absl::ZeroDuration() ||
      options.maintenance.retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--maintenance_interval and --retention must be positive");
  }
  if (options.registry == nullptr) options.registry = std::make_shared<prometheus::Registry>();
  RETURN_IF_ERROR(LoadPageTokenKey(options.data_dir));
  auto server = absl::WrapUnique(new NotificationServer(std::move(options)));
  const Options& opts = server->options_;
  Clock& clock = *opts.clock;

  std::vector<ColumnFamily> families = LogStore::ColumnFamilies();
  for (ColumnFamily& family : PushStore::ColumnFamilies()) families.push_back(std::move(family));
  ASSIGN_OR_RETURN(
      server->db_,
      Database::Open({.path = opts.data_dir, .column_families = families, .tuning = opts.storage}));
  RETURN_IF_ERROR(CheckPartitionRecord(*server->db_, opts.partitioning, "notification"));
  server->commits_ = std::make_unique<CommitQueue>(
      server->db_->db(),
      CommitQueue::Options{.name = "notification",
                           .sync = opts.sync,
                           .capacity = opts.gate != nullptr ? &opts.gate->capacity() : nullptr},
      opts.registry.get());
  server->logs_ = std::make_unique<LogStore>(*server->db_);
  server->pushes_ = std::make_unique<PushStore>(*server->db_);
  server->metrics_ = std::make_unique<NotificationMetrics>(*opts.registry);
  server->core_ = std::make_unique<NotificationCore>(*server->logs_, *server->commits_,
                                                     *server->metrics_, clock);
  server->deliverer_ =
      std::make_unique<PushDeliverer>(*server->core_, *server->logs_, *server->pushes_,
                                      *server->commits_, *server->metrics_, clock, opts.push);
  RETURN_IF_ERROR(server->deliverer_->Start());
  server->maintenance_ =
      std::make_unique<Maintenance>(*server->logs_, *server->pushes_, *server->commits_,
                                    *server->metrics_, clock, opts.maintenance);
  server->maintenance_->Start();
  if (opts.partitioning.partitioned()) {
    server->partitions_ = std::make_unique<PartitionPeers>(
        "notification", opts.partitioning, opts.peer_credentials,
        std::vector<std::string>{v1::NotificationService::service_full_name()});
  }
  server->service_ = std::make_unique<NotificationService>(
      *server->core_, *server->deliverer_, opts.gate != nullptr ? *opts.gate : CallGate::Open(),
      server->partitions_.get());
  std::vector<HostedService> services = {
      {server->service_.get(), v1::NotificationService::service_full_name()}};
  services.insert(services.end(), opts.extra_services.begin(), opts.extra_services.end());
  ASSIGN_OR_RETURN(server->host_,
                   ServiceHost::Start(opts.server, services, opts.registry,
                                      {std::make_shared<DatabaseMetrics>(*server->db_)}));
  // Streams never end on their own: end them as the drain starts.
  NotificationCore* core = server->core_.get();
  server->host_->SetDrainHook([core] { core->Shutdown(); });
  // A drain refuses new calls with a retry hint while those in flight finish
  // (the shared open gate of tests is left alone).
  if (opts.gate != nullptr) server->host_->SetCapacity(&opts.gate->capacity());
  ReportStorage(*server->db_, *server->host_, "notification");
  return server;
}

NotificationServer::~NotificationServer() { Shutdown(); }

int NotificationServer::RunUntilSignal() {
  const int code = host_->RunUntilSignal();
  Shutdown();
  return code;
}

void NotificationServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (host_ != nullptr) {
    host_->Shutdown();
  } else if (core_ != nullptr) {
    core_->Shutdown();
  }
  if (maintenance_ != nullptr) maintenance_->Stop();
  if (deliverer_ != nullptr) deliverer_->Stop();
  if (commits_ != nullptr) commits_->Stop();
  if (db_ != nullptr) StopReportingStorage(*db_);
}

}  // namespace switchboard::notification
