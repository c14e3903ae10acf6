// A routing replica's link to its writer (docs/scale-out.md): reads the
// writer's WatchActiveRuleset stream on its own thread and activates each
// ruleset in the replica's core. When the stream breaks (the writer
// restarts, the network fails) it opens it again with backoff, from the
// revision it has; meanwhile the replica keeps deciding on that revision.
#ifndef SWITCHBOARD_SERVICES_ROUTING_RULESET_FOLLOWER_H_
#define SWITCHBOARD_SERVICES_ROUTING_RULESET_FOLLOWER_H_

#include <memory>
#include <string>
#include <thread>

#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>

#include "common/sync.h"
#include "services/routing/routing_core.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::routing {

class RulesetFollower {
 public:
  // Follows the writer at `source` ("host:port") with `credentials`.
  RulesetFollower(RoutingCore& core, const std::string& source,
                  const std::shared_ptr<grpc::ChannelCredentials>& credentials);
  // Stop()s.
  ~RulesetFollower();

  RulesetFollower(const RulesetFollower&) = delete;
  RulesetFollower& operator=(const RulesetFollower&) = delete;

  void Start();
  // Cancels the stream and joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  RoutingCore& core_;
  const std::string source_;
  std::unique_ptr<v1::RoutingService::Stub> stub_;
  Mutex mu_;
  CondVar stopped_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_RULESET_FOLLOWER_H_
