// Prometheus metrics shared by the services: the /metrics endpoint and the
// standard gRPC server metrics, recorded by an interceptor for every RPC:
//
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method} (histogram)
//   grpc_server_msg_received_total / grpc_server_msg_sent_total
//
// Label values are bounded: methods are those of the services the server
// hosts (and gRPC's health and reflection services); a call of any other path
// is counted once under grpc_service="unknown", grpc_method="unknown". Codes
// are the 17 gRPC codes; anything else is counted as UNKNOWN.
#ifndef SWITCHBOARD_COMMON_METRICS_H_
#define SWITCHBOARD_COMMON_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "common/sync.h"

namespace switchboard {

// Serves `collectables` (a registry, DatabaseMetrics, ProcessMetrics...) at
// http://{listen}/metrics, and keeps them alive while it runs. `listen` is
// "host:port"; port 0 picks a free port (see MetricsEndpoint::port()).
class MetricsEndpoint {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      absl::string_view listen, std::vector<std::shared_ptr<prometheus::Collectable>> collectables);

  int port() const;

 private:
  MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer,
                  std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  // Declared first so that the exposer, destroyed first, stops scraping them.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Creates the interceptor that records the gRPC server metrics above into a
// registry. Give it to grpc::ServerBuilder::experimental().SetInterceptorCreators.
// `services` are the full names of the hosted services ("switchboard.v1.Intake");
// their methods are read from the generated descriptor pool.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcServerMetrics(
    prometheus::Registry& registry, const std::vector<std::string>& services);

// Keeps the values of one label bounded, whatever callers send: the first
// `limit` distinct values are kept as they are, and every later one is
// reported as "other" (logged once). For labels whose values come from
// outside, like an issue's source or a ruleset's rule names.
class BoundedLabel {
 public:
  BoundedLabel(absl::string_view label, size_t limit) : label_(label), limit_(limit) {}

  std::string operator()(absl::string_view value);

 private:
  const std::string label_;
  const size_t limit_;
  Mutex mu_;
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
};

// Buckets for latencies in seconds, from 100 µs to 10 s.
const std::vector<double>& LatencyBuckets();

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_METRICS_H_
