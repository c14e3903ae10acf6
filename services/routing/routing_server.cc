#include "services/routing/routing_server.h"

#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/page_token.h"
#include "common/rocks_metrics.h"
#include "common/status.h"
#include "common/storage_health.h"
#include "services/routing/ruleset_file.h"

namespace switchboard::routing {
namespace {

// Applies `path` when it says something else than the active ruleset.
absl::Status ApplyRulesetFile(RoutingCore& core, const std::string& path) {
  ASSIGN_OR_RETURN(v1::Ruleset ruleset, LoadRulesetFile(path));
  std::shared_ptr<const CompiledRuleset> active = core.active();
  if (active != nullptr && SameRules(active->ruleset(), ruleset)) {
    log::Info("ruleset file matches the active ruleset",
              {{"path", path}, {"revision", active->revision()}});
    return absl::OkStatus();
  }
  v1::ApplyRulesetRequest request;
  *request.mutable_ruleset() = std::move(ruleset);
  absl::StatusOr<v1::Ruleset> applied =
      core.ApplyRulesetAndWait(std::move(request), "file:" + path);
  if (!applied.ok()) {
    std::string detail(applied.status().message());
    for (const FieldViolation& violation : GetFieldViolations(applied.status())) {
      absl::StrAppend(&detail, "\n  ", violation.field, ": ", violation.description);
    }
    return absl::Status(applied.status().code(), absl::StrCat(path, ": ", detail));
  }
  return absl::OkStatus();
}

// A replica's health is SERVING only once it holds a ruleset: until then it
// could answer nothing but FAILED_PRECONDITION, so balancers (intake's, the
// kubelet's readiness probe) leave it out.
class ServingOnceRuled : public RulesetWatcher {
 public:
  explicit ServingOnceRuled(ServiceHost& host) : host_(host) {}
  void OnActivated(std::shared_ptr<const CompiledRuleset> /*ruleset*/) override {
    host_.SetServing(true);
  }
  void OnShutdown() override {}

 private:
  ServiceHost& host_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RoutingServer>> RoutingServer::Start(Options options) {
  const bool follower = !options.ruleset_source.empty();
  if (follower && !options.ruleset_file.empty()) {
    return absl::InvalidArgumentError(
        "--ruleset_file goes to the writer: a replica that follows one (--ruleset_source) takes "
        "its rulesets from it");
  }
  if (!follower && options.data_dir.empty()) {
    return absl::InvalidArgumentError("a data directory is required");
  }
  if (options.registry == nullptr) options.registry = std::make_shared<prometheus::Registry>();
  if (!follower) RETURN_IF_ERROR(LoadPageTokenKey(options.data_dir));
  auto server = absl::WrapUnique(new RoutingServer(std::move(options)));
  const Options& opts = server->options_;
  std::vector<std::shared_ptr<prometheus::Collectable>> more_metrics;
  if (follower) {
    server->core_ = RoutingCore::CreateFollower(*opts.registry, *opts.clock);
    server->writer_ = std::make_unique<PartitionPeers>(
        "routing",
        Partitioning{.self = 1, .addresses = {opts.ruleset_source, opts.server.grpc_listen}},
        opts.peer_credentials, std::vector<std::string>{v1::RoutingService::service_full_name()},
        std::vector<std::string>{"the routing writer", "this replica"});
    server->follower_ = std::make_unique<RulesetFollower>(*server->core_, opts.ruleset_source,
                                                          opts.peer_credentials);
    server->follower_->Start();
    log::Info("following the routing writer", {{"ruleset_source", opts.ruleset_source}});
  } else {
    ASSIGN_OR_RETURN(server->db_, Database::Open({.path = opts.data_dir,
                                                  .column_families = RulesetStore::ColumnFamilies(),
                                                  .tuning = opts.storage}));
    server->commits_ = std::make_unique<CommitQueue>(
        server->db_->db(),
        CommitQueue::Options{.name = "routing",
                             .capacity = opts.gate != nullptr ? &opts.gate->capacity() : nullptr},
        opts.registry.get());
    server->store_ = std::make_unique<RulesetStore>(*server->db_, *server->commits_);
    ASSIGN_OR_RETURN(server->core_,
                     RoutingCore::Create(*server->store_, *opts.registry, *opts.clock));
    if (!opts.ruleset_file.empty()) {
      RETURN_IF_ERROR(ApplyRulesetFile(*server->core_, opts.ruleset_file));
    }
    more_metrics.push_back(std::make_shared<DatabaseMetrics>(*server->db_));
  }
  server->service_ = std::make_unique<RoutingService>(
      *server->core_, opts.gate != nullptr ? *opts.gate : CallGate::Open(), server->writer_.get());
  ASSIGN_OR_RETURN(
      server->host_,
      ServiceHost::Start(opts.server,
                         {{server->service_.get(), v1::RoutingService::service_full_name()}},
                         opts.registry, std::move(more_metrics)));
  // Watch streams never end on their own: end them as the drain starts.
  RoutingCore* core = server->core_.get();
  server->host_->SetDrainHook([core] { core->EndWatches(); });
  // A drain refuses new calls with a retry hint while those in flight finish
  // (the shared open gate of tests is left alone).
  if (opts.gate != nullptr) server->host_->SetCapacity(&opts.gate->capacity());
  if (server->db_ != nullptr) ReportStorage(*server->db_, *server->host_, "routing");
  if (follower) {
    // In this order whenever the first ruleset arrives: watch, then look.
    server->serving_once_ruled_ = std::make_unique<ServingOnceRuled>(*server->host_);
    core->Watch(server->serving_once_ruled_.get());
    server->host_->SetServing(false);
    if (core->active() != nullptr) server->host_->SetServing(true);
  }
  return server;
}

RoutingServer::~RoutingServer() { Shutdown(); }

int RoutingServer::RunUntilSignal() {
  const int code = host_->RunUntilSignal();
  Shutdown();
  return code;
}

void RoutingServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (host_ != nullptr) host_->Shutdown();
  if (follower_ != nullptr) follower_->Stop();
  if (serving_once_ruled_ != nullptr) core_->Unwatch(serving_once_ruled_.get());
  if (commits_ != nullptr) commits_->Stop();
  if (db_ != nullptr) StopReportingStorage(*db_);
}

}  // namespace switchboard::routing
