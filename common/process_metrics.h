// The standard Prometheus process metrics, read from /proc at each scrape,
// and the build's identity:
//
//   process_cpu_seconds_total          user + system CPU time
//   process_resident_memory_bytes      resident set size
//   process_virtual_memory_bytes       virtual memory size
//   process_open_fds / process_max_fds file descriptors open / allowed
//   process_start_time_seconds         start time, Unix seconds
//   process_threads                    threads of the process
//   switchboard_build_info{version}    1, with the project's version
//
// ServiceHost serves these on every service's /metrics.
#ifndef SWITCHBOARD_COMMON_PROCESS_METRICS_H_
#define SWITCHBOARD_COMMON_PROCESS_METRICS_H_

#include <memory>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "absl/strings/string_view.h"

namespace switchboard {

class ProcessMetrics final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

// One gauge or counter family with a single unlabelled sample.
prometheus::MetricFamily SingleSample(absl::string_view name, absl::string_view help,
                                      prometheus::MetricType type, double value);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_PROCESS_METRICS_H_
