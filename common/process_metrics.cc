#include "common/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace switchboard {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The fields of /proc/self/stat after the command name, which may itself
// hold spaces and parentheses: fields()[0] is field 3 (state) of proc(5).
std::vector<std::string> StatFields() {
  const std::string stat = ReadFile("/proc/self/stat");
  const size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return {};
  return absl::StrSplit(absl::string_view(stat).substr(end_of_name + 1), ' ', absl::SkipEmpty());
}

double Field(const std::vector<std::string>& fields, int proc_field) {
  const size_t index = static_cast<size_t>(proc_field - 3);
  double value = 0;
  if (index >= fields.size() || !absl::SimpleAtod(fields[index], &value)) return 0;
  return value;
}

// Seconds since the epoch at which the system booted (/proc/stat btime).
double BootTime() {
  std::istringstream in(ReadFile("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    double value = 0;
    if (absl::ConsumePrefix(&rest, "btime ") && absl::SimpleAtod(rest, &value)) return value;
  }
  return 0;
}

double OpenFds() {
  std::error_code error;
  double count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  return count;
}

}  // namespace

prometheus::MetricFamily SingleSample(absl::string_view name, absl::string_view help,
                                      prometheus::MetricType type, double value) {
  prometheus::MetricFamily family{std::string(name), std::string(help), type, {}};
  prometheus::ClientMetric& sample = family.metric.emplace_back();
  if (type == prometheus::MetricType::Counter) {
    sample.counter.value = value;
  } else {
    sample.gauge.value = value;
  }
  return family;
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  static const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page_bytes = static_cast<double>(sysconf(_SC_PAGESIZE));
  static const double boot_time = BootTime();

  const std::vector<std::string> stat = StatFields();
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);

  std::vector<prometheus::MetricFamily> families;
  families.push_back(
      SingleSample("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                   MetricType::Counter, (Field(stat, 14) + Field(stat, 15)) / ticks_per_second));
  families.push_back(SingleSample("process_resident_memory_bytes", "Resident memory size in bytes.",
                                  MetricType::Gauge, Field(stat, 24) * page_bytes));
  families.push_back(SingleSample("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                                  MetricType::Gauge, Field(stat, 23)));
  families.push_back(SingleSample("process_open_fds", "Number of open file descriptors.",
                                  MetricType::Gauge, OpenFds()));
  families.push_back(SingleSample("process_max_fds", "Maximum number of open file descriptors.",
                                  MetricType::Gauge, static_cast<double>(files.rlim_cur)));
  families.push_back(SingleSample(
      "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
      MetricType::Gauge, boot_time + Field(stat, 22) / ticks_per_second));
  families.push_back(SingleSample("process_threads", "Number of threads of the process.",
                                  MetricType::Gauge, Field(stat, 20)));

  prometheus::MetricFamily build =
      SingleSample("switchboard_build_info", "The running build: 1, labelled with its version.",
                   MetricType::Gauge, 1);
  build.metric.front().label.push_back({"version", SWITCHBOARD_VERSION});
  families.push_back(std::move(build));
  return families;
}

}  // namespace switchboard
