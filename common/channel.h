// Client channels for service-to-service calls: keepalive, a bounded message
// size, reconnect backoff capped at 2 s (so a peer that comes back is used
// again within seconds), and a retry policy in the service config, so that a
// call failing with UNAVAILABLE (a peer restarting) is retried with
// exponential backoff by gRPC itself before the caller sees it.
//
//   auto channel = MakeServiceChannel(routing_target, security.peer_credentials,
//                                     {"switchboard.routing.v1.RoutingService"});
//   auto stub = RoutingService::NewStub(channel);
//   grpc::ClientContext context;
//   SetTimeout(context, absl::Seconds(5));
#ifndef SWITCHBOARD_COMMON_CHANNEL_H_
#define SWITCHBOARD_COMMON_CHANNEL_H_

#include <memory>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>

#include "absl/time/time.h"

namespace switchboard {

struct RetryPolicy {
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  double backoff_multiplier = 2.0;
};

// The service config JSON giving `services` (full names, e.g.
// "switchboard.routing.v1.RoutingService") the retry policy, for the
// UNAVAILABLE status only: no other failure is safe to retry blindly. When
// `balanced`, also round robin with health checking of services.front().
std::string RetryServiceConfig(const std::vector<std::string>& services, const RetryPolicy& policy,
                               bool balanced = false);

// Whether calls to `target` are balanced over several servers: a list of
// addresses ("host:port,host:port"), or a dns: name, which resolves to every
// replica behind it (a Kubernetes headless Service).
bool IsBalancedTarget(absl::string_view target);

// `target` as gRPC's resolvers take it: a list becomes "ipv4:a:p,b:p" (host
// names resolved once, now); anything else is left as it is.
std::string ChannelTarget(absl::string_view target);

// Who is at the other end of a channel.
enum class Peer {
  // Another Switchboard service: its servers accept a keepalive ping every
  // 10 s, so idle connections are pinged too (a dead one is found in ~45 s).
  kSwitchboard,
  // Anyone else (a team's push receiver): gRPC's default keepalive, which
  // stops pinging an idle connection, as a server on gRPC's defaults would
  // otherwise answer the pings with a too_many_pings GOAWAY.
  kExternal,
};

// A channel to `target` ("host:port", or a balanced target as above) with
// `credentials` (TLS or plaintext, see common/security.h), keepalive for
// `peer` and the retry policy for `services`; with policy.max_attempts <= 1, gRPC does not
// retry (for callers that count their own attempts). gRPC shares one
// connection between channels made alike; channels to one target with
// different `connection` numbers have a connection each.
std::shared_ptr<grpc::Channel> MakeServiceChannel(
    absl::string_view target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const std::vector<std::string>& services, const RetryPolicy& policy = {}, int connection = 0,
    Peer peer = Peer::kSwitchboard);

// Sets the call's deadline to now + timeout.
void SetTimeout(grpc::ClientContext& context, absl::Duration timeout);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_CHANNEL_H_
