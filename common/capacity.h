// How much work a service takes on at once. Every call takes room before its
// request is handled and gives it back when it is answered; a call for which
// there is no room is refused at once with RESOURCE_EXHAUSTED and a
// google.rpc.RetryInfo (the caller should try again a little later, or
// another partition or replica), instead of waiting in a queue that grows
// without bound and takes the process's memory with it. The resources:
//
//   calls         unary calls being served (admitted, not yet answered)
//   call_bytes    the bytes of their requests
//   commit_bytes  bytes queued for the commit thread and not yet durable
//                 (reported by the CommitQueue); only writes are refused
//                 for it, so reads go on while the disk catches up
//   streams       server streams open (Subscribe, WatchActiveRuleset)
//
// A limit of 0 is no limit. Once the process starts draining for shutdown
// (StartDraining), every new call is refused with UNAVAILABLE and a
// RetryInfo instead, while the calls already taken finish. Metrics:
//
//   switchboard_capacity_in_use{resource}, switchboard_capacity_limit{resource}
//   switchboard_load_shed_total{reason}      calls refused, by the full resource,
//                                            or "draining"
//
// Outbox items are not a resource here: the loops read them from the store
// in bounded batches (common/outbox.h), and a stream writes one message at a
// time from its subscriber's log, so neither holds more than a batch.
#ifndef SWITCHBOARD_COMMON_CAPACITY_H_
#define SWITCHBOARD_COMMON_CAPACITY_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard {

class Capacity {
 public:
  struct Limits {
    int64_t calls = 0;
    int64_t call_bytes = 0;
    int64_t commit_bytes = 0;
    int64_t streams = 0;
  };

  // What a call is, for what it may be refused for.
  enum class Work {
    kRead,    // answered from memory or the store
    kWrite,   // answered once its write is durable: refused for commit_bytes too
    kStream,  // a server stream: counts against streams only
  };

  // The retry delay a refusal suggests: this, times a random factor in
  // [1, 2) so that refused callers do not all come back at once.
  static constexpr absl::Duration kRetryDelay = absl::Milliseconds(100);

  // Unlimited, counted nowhere.
  Capacity() = default;
  // `service` names the process in refusal messages ("intake is at
  // capacity: ..."); metrics go into `registry`.
  Capacity(Limits limits, absl::string_view service, prometheus::Registry& registry);

  Capacity(const Capacity&) = delete;
  Capacity& operator=(const Capacity&) = delete;

  // Takes room for one call of `work` whose request is `bytes` long, or
  // returns RESOURCE_EXHAUSTED with RetryInfo naming what is full (and
  // takes nothing). Every OK is matched by one Release() with the same
  // arguments.
  absl::Status Take(Work work, int64_t bytes);
  void Release(Work work, int64_t bytes);

  // The CommitQueue reports bytes queued (+) and made durable or failed (-).
  void AddCommitBytes(int64_t delta);

  // From now on, Take() refuses every call with UNAVAILABLE and a RetryInfo:
  // the process is shutting down, so the caller should retry where its
  // balancer sends it next. Room already taken is unaffected.
  void StartDraining();
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

  // Waits until no unary call holds room, or for `timeout` (on the steady
  // clock); whether none does. For shutdown, after StartDraining().
  bool AwaitNoCalls(absl::Duration timeout) const;

  const Limits& limits() const { return limits_; }
  int64_t calls() const { return calls_.load(std::memory_order_relaxed); }
  int64_t call_bytes() const { return call_bytes_.load(std::memory_order_relaxed); }
  int64_t commit_bytes() const { return commit_bytes_.load(std::memory_order_relaxed); }
  int64_t streams() const { return streams_.load(std::memory_order_relaxed); }

 private:
  struct Resource {
    prometheus::Gauge* in_use = nullptr;
    prometheus::Counter* shed = nullptr;
  };

  // kRetryDelay times a random factor in [1, 2).
  static absl::Duration JitteredRetryDelay();
  absl::Status Refuse(const Resource& resource, absl::string_view what, int64_t limit) const;

  const Limits limits_{};
  const std::string service_ = "the service";
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> call_bytes_{0};
  std::atomic<int64_t> commit_bytes_{0};
  std::atomic<int64_t> streams_{0};
  std::atomic<bool> draining_{false};
  Resource calls_metrics_;
  Resource call_bytes_metrics_;
  Resource commit_bytes_metrics_;
  Resource streams_metrics_;
  Resource draining_metrics_;
};

// Room for one server stream, taken by Capacity::Take(kStream) and given
// back when the slot is destroyed: the stream's reactor holds it.
class StreamSlot {
 public:
  StreamSlot() = default;
  explicit StreamSlot(Capacity* capacity) : capacity_(capacity) {}
  StreamSlot(StreamSlot&& other) noexcept : capacity_(std::exchange(other.capacity_, nullptr)) {}
  StreamSlot& operator=(StreamSlot&& other) noexcept {
    if (this != &other) {
      Reset();
      capacity_ = std::exchange(other.capacity_, nullptr);
    }
    return *this;
  }
  ~StreamSlot() { Reset(); }

 private:
  void Reset() {
    if (capacity_ != nullptr) capacity_->Release(Capacity::Work::kStream, 0);
    capacity_ = nullptr;
  }

  Capacity* capacity_ = nullptr;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_CAPACITY_H_
