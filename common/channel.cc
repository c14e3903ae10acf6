#include "common/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/host_port.h"
#include "common/validation.h"

namespace switchboard {
namespace {

std::string ProtoDuration(absl::Duration duration) {
  return absl::StrCat(absl::ToDoubleSeconds(duration), "s");
}

// One address as gRPC's ipv4:/ipv6: resolvers want it, resolving a host
// name once; "" when it cannot be resolved.
std::string NumericAddress(absl::string_view entry, bool* v6) {
  const absl::optional<HostPort> parsed = ParseHostPort(entry);
  if (!parsed.has_value()) return "";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = absl::StrCat(parsed->port);
  const std::string host_name(parsed->host);
  if (getaddrinfo(host_name.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return "";
  }
  char host[INET6_ADDRSTRLEN] = {};
  *v6 = found->ai_family == AF_INET6;
  const void* address =
      *v6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
  inet_ntop(found->ai_family, address, host, sizeof(host));
  freeaddrinfo(found);
  return *v6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

}  // namespace

std::string ChannelTarget(absl::string_view target) {
  if (!absl::StrContains(target, ',')) return std::string(target);
  std::vector<std::string> v4;
  std::vector<std::string> v6;
  for (absl::string_view entry : absl::StrSplit(target, ',')) {
    bool is_v6 = false;
    std::string address = NumericAddress(entry, &is_v6);
    if (!address.empty()) (is_v6 ? v6 : v4).push_back(std::move(address));
  }
  // gRPC takes one family per target; IPv4 when there is any.
  if (!v4.empty()) return absl::StrCat("ipv4:", absl::StrJoin(v4, ","));
  if (!v6.empty()) return absl::StrCat("ipv6:", absl::StrJoin(v6, ","));
  return std::string(target);
}

bool IsBalancedTarget(absl::string_view target) {
  return absl::StrContains(target, ',') || absl::StartsWith(target, "dns:");
}

std::string RetryServiceConfig(const std::vector<std::string>& services, const RetryPolicy& policy,
                               bool balanced) {
  std::vector<std::string> names;
  for (const std::string& service : services) {
    names.push_back(absl::StrCat(R"({"service":")", service, R"("})"));
  }
  std::string config = "{";
  if (balanced && !services.empty()) {
    // Round robin over every address, sending only to those whose health
    // service says SERVING for our service: a draining or dead replica stops
    // getting calls within seconds.
    absl::StrAppend(&config, R"("loadBalancingConfig":[{"round_robin":{}}],)",
                    R"("healthCheckConfig":{"serviceName":")", services.front(), R"("},)");
  }
  if (policy.max_attempts > 1) {
    absl::StrAppend(&config, R"("methodConfig":[{"name":[)", absl::StrJoin(names, ","),
                    R"(],"retryPolicy":{"maxAttempts":)", policy.max_attempts,
                    R"(,"initialBackoff":")", ProtoDuration(policy.initial_backoff),
                    R"(","maxBackoff":")", ProtoDuration(policy.max_backoff),
                    R"(","backoffMultiplier":)", policy.backoff_multiplier,
                    R"(,"retryableStatusCodes":["UNAVAILABLE"]}}])");
  } else if (config.back() == ',') {
    config.pop_back();
  }
  absl::StrAppend(&config, "}");
  return config;
}

std::shared_ptr<grpc::Channel> MakeServiceChannel(
    absl::string_view target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const std::vector<std::string>& services, const RetryPolicy& policy, int connection,
    Peer peer) {
  grpc::ChannelArguments args;
  if (connection != 0) args.SetInt("switchboard.connection", connection);
  const bool balanced = IsBalancedTarget(target);
  if (policy.max_attempts > 1 || balanced) {
    args.SetServiceConfigJSON(RetryServiceConfig(services, policy, balanced));
  }
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, policy.max_attempts > 1 ? 1 : 0);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // A connection that stops answering (a peer's node gone, a firewall
  // dropping its packets) must be given up within about 45 s, busy or idle:
  // a keepalive ping every 30 s, 10 s for its answer. By default gRPC stops
  // pinging after two pings with no data sent, and waits 5 minutes between
  // pings while no data comes back (which is just when a link is dead), so
  // a black-holed connection was kept for minutes. The servers accept a
  // ping every 10 s (common/server.cc). tests/peer_fault_test.cc proves it.
  if (peer == Peer::kSwitchboard) {
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  }
  // gRPC's default reconnect backoff grows to 120 s: after a peer's outage
  // we would not notice it is back for up to two minutes. Cap it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetMaxReceiveMessageSize(static_cast<int>(4 * kMaxRequestBytes));
  return grpc::CreateCustomChannel(ChannelTarget(target), credentials, args);
}

void SetTimeout(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace switchboard
