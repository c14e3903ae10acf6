#include "services/routing/ruleset_follower.h"

#include "common/backoff.h"
#include "common/channel.h"
#include "common/logging.h"

namespace switchboard::routing {

RulesetFollower::RulesetFollower(RoutingCore& core, const std::string& source,
                                 const std::shared_ptr<grpc::ChannelCredentials>& credentials)
    : core_(core),
      source_(source),
      stub_(v1::RoutingService::NewStub(MakeServiceChannel(
          source, credentials != nullptr ? credentials : grpc::InsecureChannelCredentials(),
          {v1::RoutingService::service_full_name()}))) {}

RulesetFollower::~RulesetFollower() { Stop(); }

void RulesetFollower::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RulesetFollower::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    if (current_ != nullptr) current_->TryCancel();
    stopped_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void RulesetFollower::Run() {
  ExponentialBackoff backoff({.initial = absl::Milliseconds(200), .max = absl::Seconds(5)});
  while (true) {
    grpc::ClientContext context;
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      current_ = &context;
    }
    v1::WatchActiveRulesetRequest request;
    std::shared_ptr<const CompiledRuleset> active = core_.active();
    request.set_after_revision(active == nullptr ? 0 : active->revision());
    std::unique_ptr<grpc::ClientReader<v1::Ruleset>> reader =
        stub_->WatchActiveRuleset(&context, request);
    v1::Ruleset ruleset;
    while (reader->Read(&ruleset)) {
      backoff.Reset();
      if (absl::Status followed = core_.Follow(ruleset); !followed.ok()) {
        log::Error("the writer's ruleset does not compile here; keeping the active one",
                   {{"revision", ruleset.revision()}, {"status", followed}});
      }
    }
    const grpc::Status status = reader->Finish();
    MutexLock lock(mu_);
    current_ = nullptr;
    if (stopping_) return;
    const absl::Duration wait = backoff.Next();
    log::Warning("lost the ruleset writer; decisions go on with the active ruleset",
                 {{"ruleset_source", source_},
                  {"status", status.error_message()},
                  {"retry_in", absl::FormatDuration(wait)}});
    stopped_.WaitWithTimeout(mu_, wait);
  }
}

}  // namespace switchboard::routing
