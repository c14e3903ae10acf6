#include "common/capacity.h"

#include <chrono>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"

namespace switchboard {

Capacity::Capacity(Limits limits, absl::string_view service, prometheus::Registry& registry)
    : limits_(limits), service_(service) {
  auto& in_use = prometheus::BuildGauge()
                     .Name("switchboard_capacity_in_use")
                     .Help(
                         "Work the service holds now, by resource: unary calls being served "
                         "(calls), their request bytes (call_bytes), bytes queued for commit "
                         "(commit_bytes), server streams open (streams).")
                     .Register(registry);
  auto& limit = prometheus::BuildGauge()
                    .Name("switchboard_capacity_limit")
                    .Help(
                        "The most of each resource the service takes on; 0 is no limit "
                        "(--max_calls_in_flight and the flags beside it).")
                    .Register(registry);
  auto& shed = prometheus::BuildCounter()
                   .Name("switchboard_load_shed_total")
                   .Help(
                       "Calls refused with RESOURCE_EXHAUSTED because the service was at "
                       "capacity, by the resource that was full; reason=\"draining\": refused "
                       "with UNAVAILABLE during a shutdown.")
                   .Register(registry);
  const auto resource = [&](const std::string& name, int64_t limit_value) {
    limit.Add({{"resource", name}}).Set(static_cast<double>(limit_value));
    return Resource{.in_use = &in_use.Add({{"resource", name}}),
                    .shed = &shed.Add({{"reason", name}})};
  };
  calls_metrics_ = resource("calls", limits.calls);
  call_bytes_metrics_ = resource("call_bytes", limits.call_bytes);
  commit_bytes_metrics_ = resource("commit_bytes", limits.commit_bytes);
  streams_metrics_ = resource("streams", limits.streams);
  draining_metrics_ = Resource{.shed = &shed.Add({{"reason", "draining"}})};
}

absl::Duration Capacity::JitteredRetryDelay() {
  thread_local absl::InsecureBitGen random;
  return kRetryDelay * absl::Uniform(random, 1.0, 2.0);
}

absl::Status Capacity::Refuse(const Resource& resource, absl::string_view what,
                              int64_t limit) const {
  if (resource.shed != nullptr) resource.shed->Increment();
  return ResourceExhaustedWithRetry(
      absl::StrCat(service_, " is at capacity (", what, ": the limit is ", limit,
                   "); retry after the suggested delay, or elsewhere"),
      JitteredRetryDelay());
}

namespace {

// Adds `amount` to `counter` unless that would take it past `limit` (0: no
// limit); a counter at 0 always takes it, so one item larger than the limit
// passes when it is alone. Never overshoots, even for a moment.
bool TryAdd(std::atomic<int64_t>& counter, int64_t amount, int64_t limit) {
  int64_t current = counter.load(std::memory_order_relaxed);
  do {
    if (limit > 0 && current > 0 && current + amount > limit) return false;
  } while (!counter.compare_exchange_weak(current, current + amount, std::memory_order_relaxed));
  return true;
}

}  // namespace

absl::Status Capacity::Take(Work work, int64_t bytes) {
  if (draining()) {
    if (draining_metrics_.shed != nullptr) draining_metrics_.shed->Increment();
    return UnavailableWithRetry(
        absl::StrCat(service_,
                     " is shutting down; retry after the suggested delay, on another replica or "
                     "partition"),
        JitteredRetryDelay());
  }
  if (work == Work::kStream) {
    if (!TryAdd(streams_, 1, limits_.streams)) {
      return Refuse(streams_metrics_, "server streams open", limits_.streams);
    }
    if (streams_metrics_.in_use != nullptr) streams_metrics_.in_use->Increment();
    return absl::OkStatus();
  }
  if (work == Work::kWrite && limits_.commit_bytes > 0 &&
      commit_bytes_.load(std::memory_order_relaxed) >= limits_.commit_bytes) {
    return Refuse(commit_bytes_metrics_, "bytes waiting to be made durable", limits_.commit_bytes);
  }
  if (!TryAdd(calls_, 1, limits_.calls)) {
    return Refuse(calls_metrics_, "calls in flight", limits_.calls);
  }
  if (!TryAdd(call_bytes_, bytes, limits_.call_bytes)) {
    calls_.fetch_sub(1, std::memory_order_relaxed);
    return Refuse(call_bytes_metrics_, "request bytes in flight", limits_.call_bytes);
  }
  if (calls_metrics_.in_use != nullptr) {
    calls_metrics_.in_use->Increment();
    call_bytes_metrics_.in_use->Increment(static_cast<double>(bytes));
  }
  return absl::OkStatus();
}

void Capacity::Release(Work work, int64_t bytes) {
  if (work == Work::kStream) {
    streams_.fetch_sub(1, std::memory_order_relaxed);
    if (streams_metrics_.in_use != nullptr) streams_metrics_.in_use->Decrement();
    return;
  }
  calls_.fetch_sub(1, std::memory_order_relaxed);
  call_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  if (calls_metrics_.in_use != nullptr) {
    calls_metrics_.in_use->Decrement();
    call_bytes_metrics_.in_use->Decrement(static_cast<double>(bytes));
  }
}

void Capacity::StartDraining() { draining_.store(true, std::memory_order_relaxed); }

bool Capacity::AwaitNoCalls(absl::Duration timeout) const {
  // Shutdown only: a short poll is simpler than a condition variable that
  // every Release() would have to signal.
  const auto end = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (calls_.load(std::memory_order_relaxed) > 0) {
    if (std::chrono::steady_clock::now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

void Capacity::AddCommitBytes(int64_t delta) {
  commit_bytes_.fetch_add(delta, std::memory_order_relaxed);
  if (commit_bytes_metrics_.in_use != nullptr) {
    commit_bytes_metrics_.in_use->Increment(static_cast<double>(delta));
  }
}

}  // namespace switchboard
