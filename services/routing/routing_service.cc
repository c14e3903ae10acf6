#include "services/routing/routing_service.h"

#include "common/forwarding.h"
#include "common/handler.h"
#include "common/sync.h"
#include "services/routing/access.h"

namespace switchboard::routing {
namespace {

constexpr char kGetRuleset[] = "/switchboard.routing.v1.RoutingService/GetRuleset";
constexpr char kApplyRuleset[] = "/switchboard.routing.v1.RoutingService/ApplyRuleset";
constexpr char kListRulesetRevisions[] =
    "/switchboard.routing.v1.RoutingService/ListRulesetRevisions";

}  // namespace

grpc::ServerUnaryReactor* RoutingService::RouteIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeNow<v1::RouteIssueRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayReadRulesets(caller, "explain routing"); },
      [this](const Caller&, const v1::RouteIssueRequest& parsed) { return core_.Route(parsed); });
}

grpc::ServerUnaryReactor* RoutingService::RouteIssues(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeNow<v1::RouteIssuesRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayDecide(caller, "route issues"); },
      [this](const Caller&, const v1::RouteIssuesRequest& parsed) {
        return core_.RouteBatch(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::EscalateIssue(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return ServeNow<v1::EscalateIssueRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayDecide(caller, "escalate issues"); },
      [this](const Caller&, const v1::EscalateIssueRequest& parsed) {
        return core_.Escalate(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::RouteToTarget(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return ServeNow<v1::RouteToTargetRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayDecide(caller, "route to a target"); },
      [this](const Caller&, const v1::RouteToTargetRequest& parsed) {
        return core_.RouteToTarget(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::GetRuleset(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  // The active ruleset is here too; older revisions only at the writer.
  return ServeNowAt<v1::GetRulesetRequest>(
      gate_, {writer_, kGetRuleset},
      [this](const v1::GetRulesetRequest& parsed) {
        return parsed.revision() == 0 ? -1 : Writer();
      },
      context, request, response,
      [](const Caller& caller, auto&) { return MayReadRulesets(caller, "read rulesets"); },
      [this](const Caller&, const v1::GetRulesetRequest& parsed) {
        return core_.GetRuleset(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::ListRulesetRevisions(grpc::CallbackServerContext* context,
                                                               const grpc::ByteBuffer* request,
                                                               grpc::ByteBuffer* response) {
  return ServeNowAt<v1::ListRulesetRevisionsRequest>(
      gate_, {writer_, kListRulesetRevisions},
      [this](const v1::ListRulesetRevisionsRequest&) { return Writer(); }, context, request,
      response,
      [](const Caller& caller, auto&) { return MayReadRulesets(caller, "read rulesets"); },
      [this](const Caller&, const v1::ListRulesetRevisionsRequest& parsed) {
        return core_.ListRevisions(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::TestRuleset(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeNow<v1::TestRulesetRequest>(
      gate_, context, request, response,
      [](const Caller& caller, auto&) { return MayReadRulesets(caller, "test rulesets"); },
      [this](const Caller&, const v1::TestRulesetRequest& parsed) {
        return core_.TestRuleset(parsed);
      });
}

grpc::ServerUnaryReactor* RoutingService::ApplyRuleset(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeLaterAt<v1::Ruleset, v1::ApplyRulesetRequest>(
      gate_, {writer_, kApplyRuleset}, [this](const v1::ApplyRulesetRequest&) { return Writer(); },
      context, request, response,
      [](const Caller& caller, auto&) { return MayApplyRulesets(caller); },
      [this](const Caller& caller, const v1::ApplyRulesetRequest& parsed, auto done) {
        // The author is who applied it: the authenticated identity, or
        // "local" on a stack that authenticates nobody.
        core_.ApplyRuleset(parsed, caller.name(), std::move(done));
      });
}

namespace {

// One WatchActiveRuleset stream: the newest ruleset not yet sent, one write
// at a time. Deletes itself when gRPC is done with it.
class WatchStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer>, public RulesetWatcher {
 public:
  WatchStream(RoutingCore& core, int64_t after, StreamSlot slot)
      : core_(core), slot_(std::move(slot)), sent_(after) {
    core_.Watch(this);
    if (std::shared_ptr<const CompiledRuleset> current = core_.active()) OnActivated(current);
  }

  void OnActivated(std::shared_ptr<const CompiledRuleset> ruleset) override {
    MutexLock lock(mu_);
    if (finished_ || ruleset->revision() <= sent_) return;
    if (writing_) {
      pending_ = std::move(ruleset);  // a slow reader gets the latest
      return;
    }
    WriteLocked(*ruleset);
  }

  void OnShutdown() override {
    MutexLock lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the routing service is draining"));
  }

  void OnWriteDone(bool ok) override {
    MutexLock lock(mu_);
    writing_ = false;
    if (!ok) return FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke"));
    if (pending_ != nullptr && pending_->revision() > sent_) WriteLocked(*pending_);
    pending_.reset();
  }

  void OnCancel() override {
    MutexLock lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    core_.Unwatch(this);  // no OnActivated after this returns
    delete this;
  }

 private:
  void WriteLocked(const CompiledRuleset& ruleset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    buffer_ = ToByteBuffer(ruleset.ruleset());
    sent_ = ruleset.revision();
    writing_ = true;
    StartWrite(&buffer_);
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  RoutingCore& core_;
  StreamSlot slot_;  // room for this stream in the gate's capacity, until done
  Mutex mu_;
  int64_t sent_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const CompiledRuleset> pending_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* RoutingService::WatchActiveRuleset(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  return ServeStream<v1::WatchActiveRulesetRequest>(
      gate_, context, request,
      [](const Caller& caller, const v1::WatchActiveRulesetRequest&) {
        return MayWatchRulesets(caller);
      },
      [this](const Caller&, const v1::WatchActiveRulesetRequest& parsed,
             StreamSlot slot) -> grpc::ServerWriteReactor<grpc::ByteBuffer>* {
        return new WatchStream(core_, parsed.after_revision(), std::move(slot));
      });
}

}  // namespace switchboard::routing
