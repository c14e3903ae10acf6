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
// error counts by code, throughput and latency percentiles.
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

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/sync.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "intake address");
ABSL_FLAG(int, connections, 4, "HTTP/2 connections");
ABSL_FLAG(int, streams, 16, "calls in flight per connection (closed loop)");
ABSL_FLAG(double, rate, 0, "open loop: calls started per second over all connections; 0: closed");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(5), "load before measuring");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(30), "measured time");
ABSL_FLAG(int, description_bytes, 1024, "size of each issue's description");
ABSL_FLAG(std::string, label, "", "a name for this run, echoed in the output");

namespace switchboard::bench {
namespace {

namespace iv1 = intake::v1;

class Load {
 public:
  Load()
      : run_id_(absl::StrCat(absl::ToUnixMicros(absl::Now()))),
        description_(static_cast<size_t>(absl::GetFlag(FLAGS_description_bytes)), 'x') {
    for (int i = 0; i < absl::GetFlag(FLAGS_connections); ++i) {
      grpc::ChannelArguments args;
      args.SetInt("switchboard.bench.connection", i);  // a connection of its own
      stubs_.push_back(iv1::IntakeService::NewStub(grpc::CreateCustomChannel(
          absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials(), args)));
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
      absl::SleepFor(stop_at_ - absl::Now());
    }
    // Let calls in flight finish (bounded), then report.
    for (int i = 0; i < 1000 && in_flight_.load() > 0; ++i) absl::SleepFor(absl::Milliseconds(10));
    Report(rate);
  }

 private:
  static constexpr int kMaxInFlight = 20000;

  struct Call {
    grpc::ClientContext context;
    iv1::SubmitIssueRequest request;
    issue::v1::Issue response;
    absl::Time start;
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
    ++in_flight_;
    Call* raw = call.release();
    stubs_[connection]->async()->SubmitIssue(
        &raw->context, &raw->request, &raw->response,
        [this, raw, connection, closed](const grpc::Status& status) {
          std::unique_ptr<Call> done(raw);
          const absl::Time end = absl::Now();
          if (done->start >= measure_from_ && end <= stop_at_) Record(status, end - done->start);
          --in_flight_;
          if (closed && end < stop_at_) Start(connection, end, true);
        });
  }

  void Record(const grpc::Status& status, absl::Duration latency) {
    MutexLock lock(mu_);
    if (status.ok()) {
      latencies_.push_back(absl::ToDoubleMilliseconds(latency));
    } else {
      ++errors_[status.error_code()];
    }
  }

  void Report(double rate) {
    MutexLock lock(mu_);
    std::sort(latencies_.begin(), latencies_.end());
    const auto percentile = [&](double p) {
      if (latencies_.empty()) return 0.0;
      const size_t index = std::min(
          latencies_.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies_.size())));
      return latencies_[index];
    };
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
        "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f}\n",
        absl::GetFlag(FLAGS_label).c_str(), absl::GetFlag(FLAGS_connections),
        rate > 0 ? 0 : absl::GetFlag(FLAGS_streams), rate, seconds, latencies_.size(),
        static_cast<long long>(error_count), absl::StrJoin(errors, ",").c_str(),
        static_cast<long long>(dropped_.load()), static_cast<double>(latencies_.size()) / seconds,
        percentile(0.5), percentile(0.9), percentile(0.99), percentile(0.999));
  }

  const std::string run_id_;
  const std::string description_;
  std::vector<std::unique_ptr<iv1::IntakeService::Stub>> stubs_;
  absl::Time measure_from_;
  absl::Time stop_at_;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> dropped_{0};
  Mutex mu_;
  std::vector<double> latencies_ ABSL_GUARDED_BY(mu_);
  std::map<int, int64_t> errors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace
}  // namespace switchboard::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  switchboard::bench::Load load;
  load.Run();
  return 0;
}
