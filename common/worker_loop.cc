#include "common/worker_loop.h"

#include <algorithm>
#include <utility>

namespace switchboard {

void Doorbell::Ring() {
  MutexLock lock(mu_);
  rung_ = true;
  wake_ = true;
  cv_.SignalAll();
}

void Doorbell::Close() {
  MutexLock lock(mu_);
  closed_ = true;
  wake_ = true;
  cv_.SignalAll();
}

bool Doorbell::Wait(Clock& clock, absl::Time deadline, absl::Duration timeout) {
  MutexLock lock(mu_);
  wake_ = rung_ || closed_;
  if (!wake_) clock.Await(mu_, cv_, wake_, deadline, timeout);
  rung_ = false;
  wake_ = closed_;
  return !closed_;
}

bool Doorbell::Sleep(Clock& clock, absl::Duration timeout) {
  MutexLock lock(mu_);
  // Only closing wakes a sleeper; a ring in the meantime sets rung_ (and
  // wake_, so the wait re-checks), and is kept for the next Wait().
  const absl::Duration end = clock.Monotonic() + timeout;
  while (!closed_) {
    wake_ = false;
    if (clock.AwaitFor(mu_, cv_, wake_, end - clock.Monotonic())) break;
  }
  wake_ = rung_ || closed_;
  return !closed_;
}

WorkerLoop::WorkerLoop(std::string name, Clock& clock, Doorbell& doorbell, Options options,
                       absl::AnyInvocable<Step()> step)
    : name_(std::move(name)),
      clock_(clock),
      doorbell_(doorbell),
      options_(options),
      step_(std::move(step)) {}

WorkerLoop::~WorkerLoop() { Stop(); }

void WorkerLoop::Start() {
  thread_ = std::thread([this] { Run(); });
}

void WorkerLoop::Stop() {
  doorbell_.Close();
  if (thread_.joinable()) thread_.join();
}

void WorkerLoop::Run() {
  ExponentialBackoff backoff(options_.backoff);
  for (;;) {
    const Step step = step_();
    bool open = true;
    switch (step.outcome) {
      case Step::kProgress:
        backoff.Reset();
        // Between steps, only to notice Close().
        open = doorbell_.Sleep(clock_, absl::ZeroDuration());
        break;
      case Step::kIdle:
        backoff.Reset();
        // wake_at is a wall-clock instant (an SLA deadline); the poll is a
        // duration, so that a step of the wall clock does not stretch it.
        open = doorbell_.Wait(clock_, step.wake_at, options_.idle_poll);
        break;
      case Step::kFailed:
        open = doorbell_.Sleep(clock_, backoff.Next());
        break;
    }
    if (!open) return;
  }
}

}  // namespace switchboard
