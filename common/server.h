// The server bootstrap every Switchboard binary runs on.
//
// A ServiceHost serves the given callback-API services plus grpc.health.v1
// (overall "" and one status per hosted service), server reflection, and the
// standard gRPC server metrics on /metrics. It caps request size at 1 MiB
// (larger is RESOURCE_EXHAUSTED), keeps idle connections alive, and drains
// on shutdown: health turns NOT_SERVING at once, new calls are refused, calls
// in flight get `drain_grace` to finish before they are cancelled.
//
//   int main(int argc, char** argv) {
//     InitProcess(argc, argv, "switchboard-routing", "Routes issues.");
//     RoutingService service(...);
//     auto host = ServiceHost::Start(ServerConfigFromFlags(), {{&service, "..."}}, registry);
//     if (!host.ok()) return ExitWithError(host.status());
//     return (*host)->RunUntilSignal();
//   }
#ifndef SWITCHBOARD_COMMON_SERVER_H_
#define SWITCHBOARD_COMMON_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <prometheus/registry.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/capacity.h"
#include "common/clock_watch.h"
#include "common/metrics.h"
#include "common/sync.h"
#include "common/validation.h"

namespace switchboard {

// 128, as nginx's HTTP/2 default: far above what one client connection
// needs (the CLI opens one or two), low enough that a few flooding
// connections cannot queue tens of thousands of calls here (measured in
// bench/RESULTS.md, "Overload").
inline constexpr int kDefaultMaxConcurrentStreams = 128;

struct ServerConfig {
  // "host:port" for gRPC; port 0 picks a free port (see grpc_port()).
  std::string grpc_listen = "127.0.0.1:0";
  // "host:port" for /metrics; "" for none.
  std::string metrics_listen;
  // How long calls in flight may run after a shutdown starts.
  absl::Duration drain_grace = absl::Seconds(10);
  // How long to keep serving, with health NOT_SERVING, before refusing new
  // calls, so that load balancers stop sending first.
  absl::Duration shutdown_delay = absl::ZeroDuration();
  // TLS for grpc_listen (common/security.h); null: plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Whether callers are authenticated (an access policy is loaded).
  bool authenticates_callers = false;
  // Serve without TLS or without caller authentication on a non-loopback
  // address.
  bool allow_insecure = false;
  // "host:port" of a plaintext port that serves only grpc.health.v1, for
  // probes that cannot present a client certificate (the kubelet); "" for
  // none. Health says nothing about any issue, so it needs no protection.
  std::string health_listen;
  // After this long a client connection is asked to go away (GOAWAY; calls
  // in flight finish), so that clients balancing over a DNS name resolve it
  // again and spread onto replicas started since. Zero: connections live on.
  absl::Duration max_connection_age = absl::ZeroDuration();
  // Calls a client may have open on one connection (HTTP/2
  // MAX_CONCURRENT_STREAMS); a client's further calls wait on its side, so a
  // flood queues in the client, not in this process's memory. 0: gRPC's
  // default (no limit). Partitions relay streams over connections of their
  // own (common/forwarding.h), so the limit never stalls them.
  int max_concurrent_streams = kDefaultMaxConcurrentStreams;
  int max_receive_message_bytes = static_cast<int>(kMaxRequestBytes);
};

// A service to host, with its full name for health, e.g.
// "switchboard.routing.v1.RoutingService".
struct HostedService {
  grpc::Service* service;
  std::string name;
};

// The ServerConfig given by the common flags: --grpc_listen,
// --metrics_listen, --health_listen, --drain_grace, --shutdown_delay,
// --allow_insecure. The credentials come from common/security.h.
ServerConfig ServerConfigFromFlags();

// --data_dir; INVALID_ARGUMENT when it is not given.
absl::StatusOr<std::string> DataDirFromFlags();

// Whether `listen` ("host:port") names a loopback address.
bool IsLoopbackListenAddress(absl::string_view listen);

// Parses flags (printing `usage` for --help), starts JSON logging as
// `service` at --log_level, and blocks SIGTERM/SIGINT in every thread so that
// RunUntilSignal() receives them. Call first in main, before any thread.
void InitProcess(int argc, char** argv, absl::string_view service, absl::string_view usage);

// Logs `status` and returns the exit code for a failed start.
int ExitWithError(const absl::Status& status);

class ServiceHost {
 public:
  // Builds and starts the server. UNAVAILABLE when an address cannot be
  // bound, FAILED_PRECONDITION when asked to serve off loopback without TLS
  // and caller authentication (unless allow_insecure).
  // /metrics serves `registry`, the process metrics (common/process_metrics.h)
  // and `more_metrics`, e.g. a DatabaseMetrics.
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Start(
      const ServerConfig& config, const std::vector<HostedService>& services,
      const std::shared_ptr<prometheus::Registry>& registry,
      std::vector<std::shared_ptr<prometheus::Collectable>> more_metrics = {});

  // Drains (see Shutdown) if not done yet.
  ~ServiceHost();

  int grpc_port() const { return grpc_port_; }
  int health_port() const { return health_port_; }
  int metrics_port() const { return metrics_ == nullptr ? 0 : metrics_->port(); }
  grpc::Server& server() { return *server_; }

  // Sets the health of every hosted service and of "" (overall). Ignored
  // once draining has started.
  void SetServing(bool serving);

  // Sets the health of `name`, an entry of its own beside the hosted
  // services' (e.g. "switchboard.storage"). Ignored once draining has
  // started.
  void SetHealth(const std::string& name, bool serving);

  // The process cannot go on serving (its database refuses writes for
  // good): logs `why`, turns health NOT_SERVING, refuses new calls with
  // UNAVAILABLE and a RetryInfo (through the capacity, if set), and makes
  // RunUntilSignal() drain and return kExitFailed, so that the process
  // exits and is restarted. Never blocks; the first call wins.
  void Fail(const absl::Status& why);

  // The status given to Fail(); OK if it was not called.
  absl::Status failure() const;

  // Runs `hook` as a drain starts, right after health turns NOT_SERVING:
  // e.g. to end streams that would otherwise run until drain_grace.
  void SetDrainHook(std::function<void()> hook);

  // The room the hosted services' calls take (common/capacity.h), so that a
  // drain refuses new calls with UNAVAILABLE and a RetryInfo while the
  // calls in flight finish. Null (the default): gRPC refuses them, without.
  void SetCapacity(Capacity* capacity);

  // Drains and stops the server: health NOT_SERVING, shutdown_delay of
  // serving, then new calls refused (UNAVAILABLE, with a RetryInfo through
  // the capacity) until the calls in flight are answered or drain_grace
  // has passed, then gRPC stops, cancelling what is left. Returns once the
  // server has stopped; idempotent.
  void Shutdown();

  // Waits for SIGTERM, SIGINT or Fail(), then Shutdown(). Returns the exit
  // code: 0 after a signal, kExitFailed after Fail().
  int RunUntilSignal();

  // The exit code of a process that stopped because it failed (see Fail()).
  static constexpr int kExitFailed = 3;

 private:
  ServiceHost(ServerConfig config, std::vector<std::string> service_names);

  const ServerConfig config_;
  const std::vector<std::string> service_names_;
  // The interceptor and the endpoint point into it.
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;  // null without health_listen
  std::unique_ptr<MetricsEndpoint> metrics_;
  // Logs and counts steps of the wall clock (common/clock_watch.h).
  std::unique_ptr<ClockWatch> clock_watch_;
  int grpc_port_ = 0;
  int health_port_ = 0;
  Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> drain_hook_ ABSL_GUARDED_BY(mu_);
  Capacity* capacity_ ABSL_GUARDED_BY(mu_) = nullptr;
  mutable Mutex failure_mu_;
  absl::Status failure_ ABSL_GUARDED_BY(failure_mu_);
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_SERVER_H_
