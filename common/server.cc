#include "common/server.h"

#include "common/host_port.h"

#include <arpa/inet.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <utility>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "common/process_metrics.h"

ABSL_FLAG(std::string, grpc_listen, "127.0.0.1:0",
          "gRPC address, host:port; port 0 picks a free port (logged at start)");
ABSL_FLAG(std::string, metrics_listen, "",
          "Prometheus /metrics address, host:port; empty for none");
ABSL_FLAG(absl::Duration, drain_grace, absl::Seconds(10),
          "on SIGTERM, how long calls in flight may run before they are cancelled");
ABSL_FLAG(absl::Duration, shutdown_delay, absl::ZeroDuration(),
          "on SIGTERM, how long to keep serving with health NOT_SERVING before refusing new calls");
ABSL_FLAG(bool, allow_insecure, false,
          "serve without TLS or without caller authentication on a non-loopback address");
ABSL_FLAG(std::string, health_listen, "",
          "plaintext host:port serving only grpc.health.v1, for Kubernetes probes; empty for none");
ABSL_FLAG(absl::Duration, max_connection_age, absl::ZeroDuration(),
          "ask each client connection to go away after this long (calls in flight finish), so "
          "that clients balancing over a DNS name find replicas started since; 0 for never");
ABSL_FLAG(int, max_concurrent_streams, switchboard::kDefaultMaxConcurrentStreams,
          "calls one client connection may have open at once; further calls wait in the "
          "client, so that a flood does not queue in this process (0: no limit). A client "
          "that keeps more streams open than this uses several connections");
ABSL_FLAG(std::string, data_dir, "",
          "directory of this service's RocksDB database, created if missing (required)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

namespace switchboard {
namespace {

constexpr int kKeepaliveTimeMs = 30'000;
constexpr int kKeepaliveTimeoutMs = 10'000;
constexpr int kMinClientPingIntervalMs = 10'000;

}  // namespace

ServerConfig ServerConfigFromFlags() {
  ServerConfig config;
  config.grpc_listen = absl::GetFlag(FLAGS_grpc_listen);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.drain_grace = absl::GetFlag(FLAGS_drain_grace);
  config.shutdown_delay = absl::GetFlag(FLAGS_shutdown_delay);
  config.allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  config.health_listen = absl::GetFlag(FLAGS_health_listen);
  config.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  config.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  return config;
}

absl::StatusOr<std::string> DataDirFromFlags() {
  std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  return data_dir;
}

bool IsLoopbackListenAddress(absl::string_view listen) {
  const absl::optional<HostPort> address = ParseHostPort(listen);
  if (!address.has_value()) return false;
  if (address->host == "localhost") return true;
  const std::string text(address->host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

void InitProcess(int argc, char** argv, absl::string_view service, absl::string_view usage) {
  // Debian builds Abseil without NDEBUG, so every absl::Mutex acquisition
  // inside gRPC would update a lock-order graph (about 1.5 % of the CPU of a
  // loaded intake). Our own locks are std::mutex (common/sync.h); lock order
  // is checked by TSan in the tests, not in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(usage);
  // By default --help shows only flags defined in a file named after the
  // program; ours live in main.cc and common/. Show every Switchboard flag.
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "main.cc") || absl::StrContains(file, "common/");
  };
  absl::SetFlagsUsageConfig(config);
  absl::ParseCommandLine(argc, argv);
  log::Level level;
  if (!log::ParseLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    log::Init(service, log::Level::kInfo);
    log::Error("bad --log_level, want debug, info, warning or error",
               {{"log_level", absl::GetFlag(FLAGS_log_level)}});
    std::exit(2);
  }
  log::Init(service, level);
  // Threads started from here on inherit the mask; RunUntilSignal() takes
  // the signals with sigwait().
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int ExitWithError(const absl::Status& status) {
  log::Error("cannot start", {{"status", status}});
  return 1;
}

ServiceHost::ServiceHost(ServerConfig config, std::vector<std::string> service_names)
    : config_(std::move(config)), service_names_(std::move(service_names)) {}

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Start(
    const ServerConfig& config, const std::vector<HostedService>& services,
    const std::shared_ptr<prometheus::Registry>& registry,
    std::vector<std::shared_ptr<prometheus::Collectable>> more_metrics) {
  if (!ParseHostPort(config.grpc_listen).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--grpc_listen must be host:port, got \"", config.grpc_listen, "\""));
  }
  const bool secure = config.credentials != nullptr && config.authenticates_callers;
  if (!secure && !IsLoopbackListenAddress(config.grpc_listen) && !config.allow_insecure) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve without TLS and caller authentication on non-loopback address ",
        config.grpc_listen,
        "; give --tls_cert_file, --tls_key_file and --access_policy_file (see docs/operations.md), "
        "or "
        "--allow_insecure to do so anyway"));
  }

  std::vector<std::string> names;
  for (const HostedService& hosted : services) names.push_back(hosted.name);
  auto host_ptr = absl::WrapUnique(new ServiceHost(config, std::move(names)));
  host_ptr->registry_ = registry;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      config.grpc_listen,
      config.credentials != nullptr ? config.credentials : grpc::InsecureServerCredentials(),
      &host_ptr->grpc_port_);
  for (const HostedService& hosted : services) builder.RegisterService(hosted.service);
  builder.SetMaxReceiveMessageSize(config.max_receive_message_bytes);
  // A second process on the same port must fail, not share the traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kMinClientPingIntervalMs);
  if (config.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, config.max_concurrent_streams);
  }
  if (config.max_connection_age > absl::ZeroDuration()) {
    // gRPC adds ±10% jitter, so the clients of one pod do not all reconnect
    // at once; streams in flight are not cut (the grace is unbounded).
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(config.max_connection_age),
                                           std::numeric_limits<int>::max())));
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(MakeGrpcServerMetrics(*registry, host_ptr->service_names_));
  builder.experimental().SetInterceptorCreators(std::move(creators));

  host_ptr->server_ = builder.BuildAndStart();
  if (host_ptr->server_ == nullptr || host_ptr->grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve gRPC on ", config.grpc_listen));
  }
  if (!config.health_listen.empty()) {
    // Only the default health service: nothing is registered on it.
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(config.health_listen, grpc::InsecureServerCredentials(),
                                    &host_ptr->health_port_);
    health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    health_builder.SetMaxReceiveMessageSize(4096);
    host_ptr->health_server_ = health_builder.BuildAndStart();
    if (host_ptr->health_server_ == nullptr || host_ptr->health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat("cannot serve health on ", config.health_listen));
    }
  }
  if (!config.metrics_listen.empty()) {
    more_metrics.push_back(registry);
    more_metrics.push_back(std::make_shared<ProcessMetrics>());
    auto metrics = MetricsEndpoint::Start(config.metrics_listen, std::move(more_metrics));
    if (!metrics.ok()) return metrics.status();  // ~ServiceHost stops the server
    host_ptr->metrics_ = std::move(*metrics);
  }
  host_ptr->clock_watch_ = std::make_unique<ClockWatch>(Clock::Real(), *registry);
  host_ptr->clock_watch_->Start();
  host_ptr->SetServing(true);
  log::Info("serving", {{"grpc_listen", config.grpc_listen},
                        {"grpc_port", host_ptr->grpc_port_},
                        {"tls", config.credentials != nullptr},
                        {"authenticates_callers", config.authenticates_callers},
                        {"health_port", host_ptr->health_port_},
                        {"metrics_listen", config.metrics_listen},
                        {"metrics_port", host_ptr->metrics_port()}});
  return host_ptr;
}

ServiceHost::~ServiceHost() { Shutdown(); }

void ServiceHost::SetServing(bool serving) {
  MutexLock lock(mu_);
  if (shut_down_) return;
  for (grpc::Server* server : {server_.get(), health_server_.get()}) {
    if (server == nullptr) continue;
    grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
    health->SetServingStatus(serving);
    for (const std::string& name : service_names_) health->SetServingStatus(name, serving);
  }
}

void ServiceHost::SetHealth(const std::string& name, bool serving) {
  MutexLock lock(mu_);
  if (shut_down_) return;
  for (grpc::Server* server : {server_.get(), health_server_.get()}) {
    if (server != nullptr) server->GetHealthCheckService()->SetServingStatus(name, serving);
  }
}

void ServiceHost::Fail(const absl::Status& why) {
  {
    MutexLock lock(failure_mu_);
    if (!failure_.ok()) return;
    failure_ = why.ok() ? absl::InternalError("failed") : why;
  }
  log::Error("cannot go on serving; refusing new calls, then exiting to be restarted",
             {{"error", why.ToString()}, {"exit_code", kExitFailed}});
  SetServing(false);
  MutexLock lock(mu_);
  if (capacity_ != nullptr) capacity_->StartDraining();
}

absl::Status ServiceHost::failure() const {
  MutexLock lock(failure_mu_);
  return failure_;
}

void ServiceHost::SetDrainHook(std::function<void()> hook) {
  MutexLock lock(mu_);
  drain_hook_ = std::move(hook);
}

void ServiceHost::SetCapacity(Capacity* capacity) {
  MutexLock lock(mu_);
  capacity_ = capacity;
}

void ServiceHost::Shutdown() {
  std::function<void()> hook;
  Capacity* capacity = nullptr;
  {
    MutexLock lock(mu_);
    if (shut_down_ || server_ == nullptr) return;
    shut_down_ = true;
    // NOT_SERVING for every service, and frozen there.
    server_->GetHealthCheckService()->Shutdown();
    if (health_server_ != nullptr) health_server_->GetHealthCheckService()->Shutdown();
    hook = std::move(drain_hook_);
    capacity = capacity_;
  }
  if (hook) hook();
  log::Info("draining",
            {{"shutdown_delay", config_.shutdown_delay}, {"drain_grace", config_.drain_grace}});
  // A failed process does not wait for balancers: every call is refused
  // already.
  if (config_.shutdown_delay > absl::ZeroDuration() && failure().ok()) {
    absl::SleepFor(config_.shutdown_delay);
  }
  const auto grace_started = std::chrono::steady_clock::now();
  if (capacity != nullptr) {
    // Refuse with a retry hint, rather than gRPC's bare UNAVAILABLE, while
    // the calls in flight finish.
    capacity->StartDraining();
    if (!capacity->AwaitNoCalls(config_.drain_grace)) {
      log::Warning("calls still in flight when the drain grace ended; cancelling them",
                   {{"calls", capacity->calls()}});
    }
  }
  // What is left of the grace, measured on the steady clock; gRPC takes it
  // as a wall deadline and turns it into its own clock at once.
  const absl::Duration left =
      config_.drain_grace - absl::FromChrono(std::chrono::steady_clock::now() - grace_started);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + std::max(left, absl::ZeroDuration())));
  server_->Wait();
  if (health_server_ != nullptr) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
  metrics_.reset();
  log::Info("stopped");
}

int ServiceHost::RunUntilSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // Fail() may come from any thread while this one waits for a signal:
  // looking for it every 100 ms is simpler than waking the wait with a
  // signal of our own, and costs nothing measurable.
  const timespec poll{.tv_sec = 0, .tv_nsec = 100'000'000};
  while (failure().ok()) {
    const int signal_number = sigtimedwait(&signals, nullptr, &poll);
    if (signal_number == SIGTERM || signal_number == SIGINT) {
      log::Info("signal received", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
      Shutdown();
      // Failed during the drain: still restart from what is on disk.
      return failure().ok() ? 0 : kExitFailed;
    }
  }
  Shutdown();
  log::Error("exiting after a failure",
             {{"error", failure().ToString()}, {"exit_code", kExitFailed}});
  return kExitFailed;
}

}  // namespace switchboard
