// switchboard-routing: decides which business group and team owns an issue.
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
#include "services/routing/routing_core.h"
#include "services/routing/routing_service.h"
#include "services/routing/ruleset_file.h"
#include "services/routing/ruleset_store.h"

ABSL_FLAG(
    std::string, ruleset_file, "",
    "a Ruleset in protobuf JSON or YAML, applied at start when it differs from the active one");

namespace switchboard::routing {
namespace {

// Applies --ruleset_file when it says something else than the active ruleset.
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

int Run() {
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  if (absl::Status key = LoadPageTokenKey(*data_dir); !key.ok()) return ExitWithError(key);
  auto db = Database::Open({.path = *data_dir, .column_families = RulesetStore::ColumnFamilies()});
  if (!db.ok()) return ExitWithError(db.status());
  auto registry = std::make_shared<prometheus::Registry>();
  CommitQueue commits((*db)->db(), {.name = "routing"}, registry.get());
  RulesetStore store(**db, commits);
  auto core = RoutingCore::Create(store, *registry, Clock::Real());
  if (!core.ok()) return ExitWithError(core.status());
  if (const std::string path = absl::GetFlag(FLAGS_ruleset_file); !path.empty()) {
    if (absl::Status applied = ApplyRulesetFile(**core, path); !applied.ok()) {
      return ExitWithError(applied);
    }
  }
  auto security = LoadSecurity(SecurityFilesFromFlags(), Clock::Real(), *registry);
  if (!security.ok()) return ExitWithError(security.status());
  RoutingService service(**core, *security->gate);
  auto host = ServiceHost::Start(SecureServerConfigFromFlags(*security),
                                 {{&service, v1::RoutingService::service_full_name()}}, registry,
                                 {std::make_shared<DatabaseMetrics>(**db)});
  if (!host.ok()) return ExitWithError(host.status());
  return (*host)->RunUntilSignal();
}

}  // namespace
}  // namespace switchboard::routing

int main(int argc, char** argv) {
  switchboard::InitProcess(argc, argv, "switchboard-routing",
                           "Routes issues to the team that owns them.\n"
                           "Usage: switchboard-routing --grpc_listen=HOST:PORT "
                           "--metrics_listen=HOST:PORT --data_dir=DIR [--ruleset_file=FILE]");
  return switchboard::routing::Run();
}
