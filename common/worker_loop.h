// The shape of every background loop that drains work out of a service: a
// thread that runs one step after another, waits for a Doorbell when there is
// nothing to do, and backs off when a step fails.
//
//   Doorbell work;                          // rung by whoever queues work
//   WorkerLoop loop("publish", clock, work, {}, [&] { return PublishOnce(); });
//   loop.Start();
//   ...
//   work.Ring();                            // after new work is durable
//   ...
//   loop.Stop();                            // waits for the running step
//
// A step says how it went: kProgress runs the next step at once; kIdle waits
// until the doorbell rings, `idle_poll` passes or the step's own
// `wake_at` comes (an SLA deadline); kFailed waits out an exponential
// backoff with jitter, which rings do not cut short. All waiting is on the
// given Clock, so tests drive a loop with a FakeClock.
#ifndef SWITCHBOARD_COMMON_WORKER_LOOP_H_
#define SWITCHBOARD_COMMON_WORKER_LOOP_H_

#include <string>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/sync.h"

namespace switchboard {

// Wakes one waiting loop. Rings while nobody waits are remembered (once), so
// work queued between a loop's look and its wait is never slept through.
class Doorbell {
 public:
  Doorbell() = default;
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;

  // Cheap and non-blocking: safe on the commit thread and gRPC threads.
  void Ring();

  // Wakes the waiter for good: every later Wait() returns at once.
  void Close();

  // Waits until the doorbell rang since the last Wait(), it was closed,
  // `deadline` passed on `clock`'s wall time, or `timeout` passed on its
  // monotonic time. Returns false once closed.
  bool Wait(Clock& clock, absl::Time deadline, absl::Duration timeout);

  // Waits `timeout` on `clock`'s monotonic time; only Close() cuts it short:
  // rings are kept for later.
  bool Sleep(Clock& clock, absl::Duration timeout);

 private:
  Mutex mu_;
  CondVar cv_;
  bool rung_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Clock::Await's wake flag: rung_ || closed_, or closed_ alone.
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
};

class WorkerLoop {
 public:
  struct Step {
    enum Outcome { kProgress, kIdle, kFailed };
    Outcome outcome;
    // kIdle only: wake at this time even if nobody rings.
    absl::Time wake_at = absl::InfiniteFuture();

    static Step Progress() { return {kProgress}; }
    static Step Idle(absl::Time wake_at = absl::InfiniteFuture()) { return {kIdle, wake_at}; }
    static Step Failed() { return {kFailed}; }
  };

  struct Options {
    // How long an idle loop waits before looking again unrung.
    absl::Duration idle_poll = absl::Seconds(1);
    ExponentialBackoff::Options backoff = {.initial = absl::Milliseconds(50),
                                           .max = absl::Seconds(5)};
  };

  // `name` names the thread's loop in logs. `doorbell` must outlive the loop.
  WorkerLoop(std::string name, Clock& clock, Doorbell& doorbell, Options options,
             absl::AnyInvocable<Step()> step);

  // Stop()s.
  ~WorkerLoop();

  WorkerLoop(const WorkerLoop&) = delete;
  WorkerLoop& operator=(const WorkerLoop&) = delete;

  void Start();

  // Closes the doorbell and waits for the step in progress. Idempotent.
  void Stop();

  const std::string& name() const { return name_; }

 private:
  void Run();

  const std::string name_;
  Clock& clock_;
  Doorbell& doorbell_;
  const Options options_;
  absl::AnyInvocable<Step()> step_;
  std::thread thread_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_WORKER_LOOP_H_
