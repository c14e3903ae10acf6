#include "common/metrics.h"

#include <array>
#include <atomic>
#include <exception>
#include <utility>

#include <google/protobuf/descriptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/sync.h"

namespace switchboard {

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer,
                                 std::vector<std::shared_ptr<prometheus::Collectable>> collectables)
    : collectables_(std::move(collectables)), exposer_(std::move(exposer)) {}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    absl::string_view listen, std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // civetweb wants "[::1]:port" for IPv6 and "host:port" otherwise, as we do.
    exposer = std::make_unique<prometheus::Exposer>(std::string(listen), /*num_threads=*/1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", listen, ": ", e.what()));
  }
  for (const auto& collectable : collectables) exposer->RegisterCollectable(collectable);
  return absl::WrapUnique(new MetricsEndpoint(std::move(exposer), std::move(collectables)));
}

int MetricsEndpoint::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

std::string BoundedLabel::operator()(absl::string_view value) {
  MutexLock lock(mu_);
  if (seen_.contains(value)) return std::string(value);
  if (seen_.size() < limit_) {
    seen_.emplace(value);
    return std::string(value);
  }
  if (!overflowed_) {
    overflowed_ = true;
    log::Warning("metric label has too many values; further ones are counted as \"other\"",
                 {{"label", label_}, {"limit", static_cast<int64_t>(limit_)}});
  }
  return "other";
}

const std::vector<double>& LatencyBuckets() {
  static const auto* buckets =
      new std::vector<double>{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                              0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *buckets;
}

namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

constexpr int kNumCodes = 17;

constexpr absl::string_view kCodeNames[kNumCodes] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

absl::string_view TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

// The families, and per method the series, created once and then reused.
class GrpcServerMetrics {
 public:
  struct Method {
    prometheus::Labels labels;
    prometheus::Counter* started;
    prometheus::Counter* received;
    prometheus::Counter* sent;
    prometheus::Histogram* handling;
    std::array<std::atomic<prometheus::Counter*>, kNumCodes> handled{};
  };

  GrpcServerMetrics(prometheus::Registry& registry, const std::vector<std::string>& services)
      : known_(KnownPaths(services)),
        started_(prometheus::BuildCounter()
                     .Name("grpc_server_started_total")
                     .Help("RPCs started on the server.")
                     .Register(registry)),
        handled_(prometheus::BuildCounter()
                     .Name("grpc_server_handled_total")
                     .Help("RPCs completed on the server, by status code.")
                     .Register(registry)),
        handling_(prometheus::BuildHistogram()
                      .Name("grpc_server_handling_seconds")
                      .Help("Time from the start of an RPC to its status being sent.")
                      .Register(registry)),
        received_(prometheus::BuildCounter()
                      .Name("grpc_server_msg_received_total")
                      .Help("Messages received by the server.")
                      .Register(registry)),
        sent_(prometheus::BuildCounter()
                  .Name("grpc_server_msg_sent_total")
                  .Help("Messages sent by the server.")
                  .Register(registry)) {}

  Method& ForRpc(const ServerRpcInfo& info) {
    // A path the server does not serve is named by the caller: it gets no
    // series of its own, or any client could grow /metrics without bound.
    const bool known = known_.contains(info.method());
    std::string key = known ? absl::StrCat(static_cast<int>(info.type()), info.method()) : "";
    MutexLock lock(mu_);
    auto& slot = methods_[key];
    if (slot == nullptr) {
      slot = std::make_unique<Method>();
      if (known) {
        // "/package.Service/Method"
        absl::string_view full = info.method();
        full.remove_prefix(1);
        const size_t slash = full.rfind('/');
        slot->labels = {{"grpc_type", std::string(TypeName(info.type()))},
                        {"grpc_service", std::string(full.substr(0, slash))},
                        {"grpc_method", std::string(full.substr(slash + 1))}};
      } else {
        slot->labels = {
            {"grpc_type", "unknown"}, {"grpc_service", "unknown"}, {"grpc_method", "unknown"}};
      }
      slot->started = &started_.Add(slot->labels);
      slot->received = &received_.Add(slot->labels);
      slot->sent = &sent_.Add(slot->labels);
      slot->handling = &handling_.Add(slot->labels, LatencyBuckets());
    }
    return *slot;
  }

  prometheus::Counter& Handled(Method& method, int code) {
    if (code < 0 || code >= kNumCodes) code = static_cast<int>(grpc::StatusCode::UNKNOWN);
    prometheus::Counter* counter = method.handled[code].load(std::memory_order_acquire);
    if (counter == nullptr) {
      prometheus::Labels labels = method.labels;
      labels.emplace("grpc_code", std::string(kCodeNames[code]));
      counter = &handled_.Add(labels);  // idempotent: the same series for the same labels
      method.handled[code].store(counter, std::memory_order_release);
    }
    return *counter;
  }

 private:
  // "/package.Service/Method" of every method of `services`, and of the
  // health and reflection services gRPC adds itself.
  static absl::flat_hash_set<std::string> KnownPaths(const std::vector<std::string>& services) {
    absl::flat_hash_set<std::string> paths = {
        "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"};
    for (const std::string& name : services) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
      if (service == nullptr) {
        log::Warning("no descriptor for a hosted service; its calls are counted as unknown",
                     {{"service", name}});
        continue;
      }
      for (int i = 0; i < service->method_count(); ++i) {
        paths.insert(absl::StrCat("/", name, "/", service->method(i)->name()));
      }
    }
    return paths;
  }

  const absl::flat_hash_set<std::string> known_;
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& sent_;
  Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_ ABSL_GUARDED_BY(mu_);
};

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcServerMetrics& metrics, GrpcServerMetrics::Method& method)
      : metrics_(metrics), method_(method), start_(absl::Now()) {
    method_.started->Increment();
  }

  ~MetricsInterceptor() override {
    // A call cancelled before a status was sent still counts as handled.
    if (!recorded_) Record(static_cast<int>(grpc::StatusCode::CANCELLED));
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      method_.received->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      method_.sent->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(static_cast<int>(methods->GetSendStatus().error_code()));
    }
    methods->Proceed();
  }

 private:
  void Record(int code) {
    recorded_ = true;
    metrics_.Handled(method_, code).Increment();
    method_.handling->Observe(absl::ToDoubleSeconds(absl::Now() - start_));
  }

  GrpcServerMetrics& metrics_;
  GrpcServerMetrics::Method& method_;
  const absl::Time start_;
  bool recorded_ = false;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(prometheus::Registry& registry,
                            const std::vector<std::string>& services)
      : metrics_(registry, services) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, metrics_.ForRpc(*info));  // owned by gRPC
  }

 private:
  GrpcServerMetrics metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcServerMetrics(
    prometheus::Registry& registry, const std::vector<std::string>& services) {
  return std::make_unique<MetricsInterceptorFactory>(registry, services);
}

}  // namespace switchboard
