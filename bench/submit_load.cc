// A SubmitIssue load client that checks every status (h2load counts any
// HTTP 200 as a success, even a gRPC error).
//
// Closed loop: C connections × S calls in flight on each, every call
// re-issued as soon as it completes. Open loop (--rate): calls start on a
// fixed schedule whatever the server does, and latency counts from the
// scheduled start, so a slow server cannot hide its queueing (coordinated
// omission). Each call submits a new, valid issue with a unique request id
// and a --description_bytes description (1 KiB by default).
//
//   build/bin/submit_load --target=127.0.0.1:50051 --connections=4 --streams=16
//                         --warmup=5s --duration=30s [--rate=15000] [--label=full]
//
// Prints one JSON line: calls that completed after the warm-up, OK and
// error counts by code, throughput and latency percentiles (of accepted
// calls), and the calls refused for load (RESOURCE_EXHAUSTED): how many,
// how many of them without a RetryInfo, and their p99.
//
// Pipeline mode (--subscribe=teams/storage-oncall --notification=ADDR): a
// Subscribe stream is open on the owning team's log before the load starts,
// and every ROUTED event for this run's issues is matched to its call
// (labels carry the run and call number). After the load stops the client
// waits (up to --drain) for every accepted issue to be delivered, then adds
// to the line: delivered, lost (accepted and never delivered), duplicates,
// delivered_per_s (over the measured window and the drain) and submit →
// delivery latency percentiles. Every issue the load submits routes to
// storage-oncall under config/sample-ruleset.yaml.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/channel.h"
#include "common/partition.h"
#include "common/status.h"
#include "common/sync.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051",
          "intake address, or a comma-separated list of intake partitions to balance over");
ABSL_FLAG(int, connections, 4, "HTTP/2 connections");
ABSL_FLAG(bool, direct, false,
          "with a list of intake partitions as --target (in partition order): send each "
          "SubmitIssue straight to the partition that owns its request_id, as a partition-aware "
          "client may, instead of balancing (so no call is forwarded); connections are per "
          "partition");
ABSL_FLAG(int, streams, 16, "calls in flight per connection (closed loop)");
ABSL_FLAG(double, rate, 0, "open loop: calls started per second over all connections; 0: closed");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(5), "load before measuring");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(30), "measured time");
ABSL_FLAG(int, description_bytes, 1024, "size of each issue's description");
ABSL_FLAG(std::string, label, "", "a name for this run, echoed in the output");
ABSL_FLAG(std::string, subscribe, "",
          "pipeline mode: the subscriber whose stream receives each issue's ROUTED event");
ABSL_FLAG(std::string, notification, "127.0.0.1:50053",
          "notification address (pipeline mode); or every notification partition's, in "
          "partition order, to subscribe at the subscriber's own partition");
ABSL_FLAG(absl::Duration, drain, absl::Seconds(60),
          "pipeline mode: how long to wait after the load for deliveries still on the way");

namespace switchboard::bench {
namespace {

namespace iv1 = intake::v1;
namespace nv1 = notification::v1;

// CPU time (user + system) this process has used so far.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Milliseconds → percentile `p` of sorted `values` (0 when empty).
double Percentile(const std::vector<double>& values, double p) {
  if (values.empty()) return 0.0;
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  return values[index];
}

// Reads one subscriber's stream on a thread of its own and matches each
// ROUTED event of this run to the call that submitted it.
class Deliveries {
 public:
  Deliveries(const std::string& target, const std::string& subscriber, std::string run_id)
      : run_id_(std::move(run_id)),
        stub_(nv1::NotificationService::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {
    nv1::SubscribeRequest request;
    request.set_subscriber(subscriber);
    reader_ = stub_->Subscribe(&context_, request);
    thread_ = std::thread([this] { Read(); });
  }

  ~Deliveries() {
    context_.TryCancel();
    thread_.join();
  }

  // Call `n` was sent at `start` and accepted; it counts when it is measured.
  void Accepted(int64_t n, absl::Time start, bool measured) {
    MutexLock lock(mu_);
    auto [it, inserted] = calls_.try_emplace(n, CallState{start, measured});
    if (!inserted) {  // the delivery came first
      it->second.start = start;
      it->second.measured = measured;
      if (it->second.delivered > 0) Count(it->second);
    }
    if (measured) ++expected_;
  }

  // Waits until every measured call is delivered or `timeout` passes.
  void Drain(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    MutexLock lock(mu_);
    while (delivered_ < expected_ && !failed_) {
      if (absl::Now() >= deadline) break;
      changed_.WaitWithTimeout(mu_, absl::Milliseconds(100));
    }
  }

  // JSON fields: delivered, lost, duplicates, rate, latency percentiles.
  std::string Report(absl::Time measure_from) {
    MutexLock lock(mu_);
    std::sort(latencies_.begin(), latencies_.end());
    const double seconds = absl::ToDoubleSeconds(last_delivery_ - measure_from);
    return absl::StrFormat(
        ",\"delivered\":%d,\"lost\":%d,\"duplicates\":%d,\"delivered_per_s\":%.0f,"
        "\"delivery_p50_ms\":%.3f,\"delivery_p99_ms\":%.3f,\"delivery_p999_ms\":%.3f,"
        "\"stream_status\":\"%s\"",
        delivered_, expected_ - delivered_, duplicates_,
        seconds > 0 ? static_cast<double>(delivered_) / seconds : 0.0, Percentile(latencies_, 0.5),
        Percentile(latencies_, 0.99), Percentile(latencies_, 0.999),
        failed_ ? stream_error_ : "open");
  }

 private:
  struct CallState {
    absl::Time start;
    bool measured = false;
    int delivered = 0;
    absl::Time delivered_at;
  };

  void Read() {
    nv1::Notification notification;
    while (reader_->Read(&notification)) {
      const absl::Time now = absl::Now();
      const issue::v1::IssueEvent& event = notification.event();
      if (event.type() != issue::v1::EVENT_TYPE_ROUTED) continue;
      const auto& labels = event.issue().labels();
      auto run = labels.find("bench_run");
      auto call = labels.find("bench_call");
      int64_t n = 0;
      if (run == labels.end() || run->second != run_id_ || call == labels.end() ||
          !absl::SimpleAtoi(call->second, &n)) {
        continue;  // not this run's
      }
      MutexLock lock(mu_);
      auto [it, inserted] = calls_.try_emplace(n);
      CallState& state = it->second;
      if (++state.delivered > 1) {
        ++duplicates_;
        continue;
      }
      state.delivered_at = now;
      if (!inserted) Count(state);
    }
    const grpc::Status status = reader_->Finish();
    MutexLock lock(mu_);
    failed_ = true;
    stream_error_ = std::string(StatusCodeName(static_cast<absl::StatusCode>(status.error_code())));
    changed_.SignalAll();
  }

  // A measured call's first delivery, once both its start and delivery are known.
  void Count(const CallState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!state.measured) return;
    ++delivered_;
    latencies_.push_back(absl::ToDoubleMilliseconds(state.delivered_at - state.start));
    last_delivery_ = std::max(last_delivery_, state.delivered_at);
    changed_.SignalAll();
  }

  const std::string run_id_;
  std::unique_ptr<nv1::NotificationService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<nv1::Notification>> reader_;
  std::thread thread_;

  Mutex mu_;
  CondVar changed_;
  absl::flat_hash_map<int64_t, CallState> calls_ ABSL_GUARDED_BY(mu_);
  int64_t expected_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_delivery_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::vector<double> latencies_ ABSL_GUARDED_BY(mu_);
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  std::string stream_error_ ABSL_GUARDED_BY(mu_);
};

class Load {
 public:
  Load()
      : run_id_(absl::StrCat(absl::ToUnixMicros(absl::Now()))),
        description_(static_cast<size_t>(absl::GetFlag(FLAGS_description_bytes)), 'x') {
    if (absl::GetFlag(FLAGS_direct)) {
      for (absl::string_view address : absl::StrSplit(absl::GetFlag(FLAGS_target), ',')) {
        partitions_.emplace_back();
        for (int i = 0; i < absl::GetFlag(FLAGS_connections); ++i) {
          grpc::ChannelArguments args;
          args.SetInt("switchboard.bench.connection", i);
          partitions_.back().push_back(iv1::IntakeService::NewStub(grpc::CreateCustomChannel(
              std::string(address), grpc::InsecureChannelCredentials(), args)));
        }
      }
    }
    for (int i = 0; i < absl::GetFlag(FLAGS_connections); ++i) {
      grpc::ChannelArguments args;
      args.SetInt("switchboard.bench.connection", i);  // a connection of its own
      // A list of intake partitions: round robin over them, as a client
      // balancing over a headless Service does.
      if (IsBalancedTarget(absl::GetFlag(FLAGS_target))) {
        args.SetLoadBalancingPolicyName("round_robin");
      }
      stubs_.push_back(iv1::IntakeService::NewStub(grpc::CreateCustomChannel(
          ChannelTarget(absl::GetFlag(FLAGS_target)), grpc::InsecureChannelCredentials(), args)));
    }
    if (!absl::GetFlag(FLAGS_subscribe).empty()) {
      // A list of notification partitions: the one that owns the subscriber.
      const std::vector<std::string> notifications =
          absl::StrSplit(absl::GetFlag(FLAGS_notification), ',');
      const std::string& owner = notifications[PartitionOf(absl::GetFlag(FLAGS_subscribe),
                                                           static_cast<int>(notifications.size()))];
      deliveries_ = std::make_unique<Deliveries>(owner, absl::GetFlag(FLAGS_subscribe), run_id_);
    }
  }

  void Run() {
    const absl::Time start = absl::Now();
    measure_from_ = start + absl::GetFlag(FLAGS_warmup);
    stop_at_ = measure_from_ + absl::GetFlag(FLAGS_duration);
    const double rate = absl::GetFlag(FLAGS_rate);
    if (rate > 0) {
      // One pacer: call i starts at start + i / rate, on connection i mod C.
      const absl::Duration gap = absl::Seconds(1) / rate;
      for (int64_t i = 0;; ++i) {
        const absl::Time due = start + gap * static_cast<double>(i);
        if (due >= stop_at_) break;
        const absl::Time now = absl::Now();
        if (due > now) absl::SleepFor(due - now);
        if (due >= measure_from_ && cpu_at_measure_ < 0) cpu_at_measure_ = CpuSeconds();
        if (in_flight_.load() >= kMaxInFlight) {
          ++dropped_;  // the server fell this far behind: counted, not sent
          continue;
        }
        Start(static_cast<size_t>(i) % stubs_.size(), due, /*closed=*/false);
      }
    } else {
      for (size_t connection = 0; connection < stubs_.size(); ++connection) {
        for (int stream = 0; stream < absl::GetFlag(FLAGS_streams); ++stream) {
          Start(connection, absl::Now(), /*closed=*/true);
        }
      }
      absl::SleepFor(measure_from_ - absl::Now());
      cpu_at_measure_ = CpuSeconds();
      absl::SleepFor(stop_at_ - absl::Now());
    }
    const double cpu_used = CpuSeconds() - std::max(0.0, cpu_at_measure_);
    // Let calls in flight finish (bounded), then report.
    for (int i = 0; i < 1000 && in_flight_.load() > 0; ++i) absl::SleepFor(absl::Milliseconds(10));
    if (deliveries_ != nullptr) deliveries_->Drain(absl::GetFlag(FLAGS_drain));
    Report(rate, cpu_used);
  }

 private:
  static constexpr int kMaxInFlight = 20000;

  struct Call {
    grpc::ClientContext context;
    iv1::SubmitIssueRequest request;
    issue::v1::Issue response;
    absl::Time start;
    int64_t number = 0;
  };

  void Start(size_t connection, absl::Time scheduled, bool closed) {
    auto call = std::make_unique<Call>();
    call->start = scheduled;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    const int64_t n = next_.fetch_add(1);
    call->request.set_request_id(absl::StrCat("bench-", run_id_, "-", n));
    issue::v1::Issue& issue = *call->request.mutable_issue();
    issue.set_title(absl::StrCat("Blob uploads time out in region ", n % 16));
    issue.set_description(description_);
    issue.mutable_customer()->set_id(absl::StrCat("customer-", n % 1000));
    issue.set_product("azure-storage");
    issue.set_severity(static_cast<issue::v1::Severity>(1 + n % 4));
    issue.set_source("crm");
    issue.set_submitter("load@example.com");
    (*issue.mutable_labels())["bench_run"] = run_id_;
    (*issue.mutable_labels())["bench_call"] = absl::StrCat(n);
    call->number = n;
    ++in_flight_;
    Call* raw = call.release();
    iv1::IntakeService::Stub& stub =
        partitions_.empty()
            ? *stubs_[connection]
            : *partitions_[PartitionOf(raw->request.request_id(),
                                       static_cast<int>(partitions_.size()))][connection];
    stub.async()->SubmitIssue(&raw->context, &raw->request, &raw->response,
                              [this, raw, connection, closed](const grpc::Status& status) {
                                std::unique_ptr<Call> done(raw);
                                const absl::Time end = absl::Now();
                                const bool measured =
                                    done->start >= measure_from_ && end <= stop_at_;
                                if (measured) Record(status, end - done->start);
                                if (status.ok() && deliveries_ != nullptr)
                                  deliveries_->Accepted(done->number, done->start, measured);
                                --in_flight_;
                                if (closed && end < stop_at_) Start(connection, end, true);
                              });
  }

  void Record(const grpc::Status& status, absl::Duration latency) {
    // Outside the lock: parsing the details costs.
    const bool shed = status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    const bool retry_hint = shed && GetRetryDelay(FromGrpcStatus(status)).has_value();
    MutexLock lock(mu_);
    if (status.ok()) {
      latencies_.push_back(absl::ToDoubleMilliseconds(latency));
    } else {
      ++errors_[status.error_code()];
    }
    if (shed) {
      refused_latencies_.push_back(absl::ToDoubleMilliseconds(latency));
      if (!retry_hint) ++refused_without_retry_;
    }
  }

  void Report(double rate, double cpu_seconds) {
    MutexLock lock(mu_);
    std::sort(latencies_.begin(), latencies_.end());
    std::sort(refused_latencies_.begin(), refused_latencies_.end());
    const double seconds = absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration));
    std::vector<std::string> errors;
    int64_t error_count = 0;
    for (const auto& [code, count] : errors_) {
      errors.push_back(
          absl::StrCat("\"", StatusCodeName(static_cast<absl::StatusCode>(code)), "\":", count));
      error_count += count;
    }
    std::printf(
        "{\"label\":\"%s\",\"connections\":%d,\"streams\":%d,\"rate\":%.0f,\"seconds\":%.0f,"
        "\"ok\":%zu,\"errors\":%lld,\"error_codes\":{%s},\"dropped\":%lld,\"throughput\":%.0f,"
        "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
        "\"refused\":%zu,\"refused_without_retry_info\":%lld,\"refused_p99_ms\":%.3f,"
        "\"client_cpu_us_per_call\":%.0f%s}\n",
        absl::GetFlag(FLAGS_label).c_str(), absl::GetFlag(FLAGS_connections),
        rate > 0 ? 0 : absl::GetFlag(FLAGS_streams), rate, seconds, latencies_.size(),
        static_cast<long long>(error_count), absl::StrJoin(errors, ",").c_str(),
        static_cast<long long>(dropped_.load()), static_cast<double>(latencies_.size()) / seconds,
        Percentile(latencies_, 0.5), Percentile(latencies_, 0.9), Percentile(latencies_, 0.99),
        Percentile(latencies_, 0.999), refused_latencies_.size(),
        static_cast<long long>(refused_without_retry_), Percentile(refused_latencies_, 0.99),
        latencies_.empty() ? 0.0 : cpu_seconds * 1e6 / static_cast<double>(latencies_.size()),
        deliveries_ != nullptr ? deliveries_->Report(measure_from_).c_str() : "");
  }

  const std::string run_id_;
  const std::string description_;
  std::vector<std::unique_ptr<iv1::IntakeService::Stub>> stubs_;
  // --direct: each partition's connections, in partition order.
  std::vector<std::vector<std::unique_ptr<iv1::IntakeService::Stub>>> partitions_;
  std::unique_ptr<Deliveries> deliveries_;
  absl::Time measure_from_;
  absl::Time stop_at_;
  double cpu_at_measure_ = -1;  // CPU seconds when measuring began
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> dropped_{0};
  Mutex mu_;
  std::vector<double> latencies_ ABSL_GUARDED_BY(mu_);
  std::map<int, int64_t> errors_ ABSL_GUARDED_BY(mu_);
  // Calls refused with RESOURCE_EXHAUSTED (load shed): how fast, and how
  // many came without a RetryInfo.
  std::vector<double> refused_latencies_ ABSL_GUARDED_BY(mu_);
  int64_t refused_without_retry_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace
}  // namespace switchboard::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  switchboard::bench::Load load;
  load.Run();
  return 0;
}
