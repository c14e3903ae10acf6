// What a test asks of a running server from the outside: the services its
// reflection lists, and its /metrics page.
#ifndef SWITCHBOARD_COMMON_TESTING_PROBES_H_
#define SWITCHBOARD_COMMON_TESTING_PROBES_H_

#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "absl/status/statusor.h"

namespace switchboard::testing {

// The service names listed by grpc.reflection.v1alpha at `target`.
absl::StatusOr<std::vector<std::string>> ListServicesViaReflection(const std::string& target);

// The outcome of a unary call made with raw request bytes.
struct RawCallResult {
  grpc::Status status;
  std::string response;  // serialized response when status is OK
};

// Calls unary `method` ("/package.Service/Method") at `target` with `request`
// bytes as they are, valid protobuf or not: for tests of hostile input.
RawCallResult CallRaw(const std::string& target, const std::string& method,
                      const std::string& request);

// A TCP connection to 127.0.0.1:`port` whose reads time out after 5 s, or
// -1. The caller closes it.
int ConnectLoopback(int port);

// The body of GET http://127.0.0.1:{port}{path} (HTTP/1.0); UNAVAILABLE
// unless the answer is 200.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

// The body of GET http://127.0.0.1:{port}/metrics.
absl::StatusOr<std::string> FetchMetrics(int port);

// The value of the sample `series` (e.g. `name{label="v"}`, labels in the
// order the page prints them) in a Prometheus text page, or NOT_FOUND.
absl::StatusOr<double> SampleValue(const std::string& page, const std::string& series);

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_COMMON_TESTING_PROBES_H_
