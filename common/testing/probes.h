// What a test asks of a running server from the outside: the services its
// reflection lists, and its /metrics page.
#ifndef SWITCHBOARD_COMMON_TESTING_PROBES_H_
#define SWITCHBOARD_COMMON_TESTING_PROBES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace switchboard::testing {

// The service names listed by grpc.reflection.v1alpha at `target`.
absl::StatusOr<std::vector<std::string>> ListServicesViaReflection(const std::string& target);

// The body of GET http://127.0.0.1:{port}/metrics.
absl::StatusOr<std::string> FetchMetrics(int port);

// The value of the sample `series` (e.g. `name{label="v"}`, labels in the
// order the page prints them) in a Prometheus text page, or NOT_FOUND.
absl::StatusOr<double> SampleValue(const std::string& page, const std::string& series);

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_COMMON_TESTING_PROBES_H_
