// Locks, condition variables and one-shot events for Switchboard's own code.
//
// Debian's Abseil is not built with ThreadSanitizer annotations, so TSan
// cannot see absl::Mutex synchronise anything and reports races that are
// not there. These types wrap the standard library's pthread-based
// primitives, which TSan understands, and carry Abseil's thread-safety
// annotations, so that clang's -Wthread-safety checks ABSL_GUARDED_BY as
// usual.
//
//   Mutex mu;
//   CondVar changed;
//   int value ABSL_GUARDED_BY(mu);
//   ...
//   MutexLock lock(mu);
//   while (value == 0) changed.Wait(mu);
#ifndef SWITCHBOARD_COMMON_SYNC_H_
#define SWITCHBOARD_COMMON_SYNC_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace switchboard {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

  // BasicLockable, for std::condition_variable_any.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

class CondVar {
 public:
  // Releases `mu` (held by the caller) until signalled; reacquires it before
  // returning. Wakeups may be spurious: wait in a loop on the condition.
  void Wait(Mutex& mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { cv_.wait(mu); }

  // As Wait(), but returns false once `deadline` has passed.
  bool WaitWithDeadline(Mutex& mu, absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // As Wait(), but returns false once `timeout` has passed, measured on the
  // steady clock: a step of the wall clock does not change it.
  bool WaitWithTimeout(Mutex& mu, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

// A one-shot event: Fire() once, wait any number of times. (Named so that
// "notification" keeps its domain meaning: an event delivered to a subscriber.)
class OneShot {
 public:
  void Fire();
  bool HasFired();
  void Wait();
  // Returns whether it fired within `timeout`.
  bool WaitFor(absl::Duration timeout);

 private:
  Mutex mu_;
  CondVar cv_;
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
};

// Counts down from `count`; Wait() returns once it reaches zero.
class BlockingCounter {
 public:
  explicit BlockingCounter(int64_t count) : count_(count) {}
  void DecrementCount();
  void Wait();

 private:
  Mutex mu_;
  CondVar cv_;
  int64_t count_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_SYNC_H_
