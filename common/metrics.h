// Prometheus metrics shared by the services: the /metrics endpoint and the
// standard gRPC server metrics, recorded by an interceptor for every RPC:
//
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method} (histogram)
//   grpc_server_msg_received_total / grpc_server_msg_sent_total
//
// Label values are bounded: methods are those the server registers, codes
// the 17 gRPC codes.
#ifndef SWITCHBOARD_COMMON_METRICS_H_
#define SWITCHBOARD_COMMON_METRICS_H_

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "absl/status/statusor.h"

namespace switchboard {

// Serves `registry` at http://{listen}/metrics. `listen` is "host:port";
// port 0 picks a free port (see MetricsEndpoint::port()).
class MetricsEndpoint {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      absl::string_view listen, const std::shared_ptr<prometheus::Registry>& registry);

  int port() const;

 private:
  explicit MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer);
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Creates the interceptor that records the gRPC server metrics above into a
// registry. Give it to grpc::ServerBuilder::experimental().SetInterceptorCreators.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcServerMetrics(
    prometheus::Registry& registry);

// Buckets for latencies in seconds, from 100 µs to 10 s.
const std::vector<double>& LatencyBuckets();

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_METRICS_H_
