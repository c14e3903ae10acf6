// Child processes for tests that need a real binary: start it, read its
// output, signal or kill -9 it, and wait for it with a bound.
#ifndef SWITCHBOARD_COMMON_TESTING_SUBPROCESS_H_
#define SWITCHBOARD_COMMON_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace switchboard::testing {

class Subprocess {
 public:
  struct Options {
    // Capture stdout for ReadLine(); otherwise it is inherited.
    bool capture_stdout = false;
    // Append stderr to this file; "" inherits it.
    std::string stderr_path;
    // "NAME=value" entries added to (or replacing those of) this process's
    // environment.
    std::vector<std::string> env;
  };

  // Starts `path` with `args` (argv[1..]).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(const std::string& path,
                                                           const std::vector<std::string>& args,
                                                           const Options& options);

  // Kills the process with SIGKILL if it still runs, and reaps it.
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Sends `signal`.
  void Signal(int signal);

  // SIGKILL, then reap.
  void Kill();

  // Waits up to `timeout` for the process to end; returns its exit code, or
  // 128 + signal if a signal ended it. DEADLINE_EXCEEDED if it still runs.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // Whether the process has not ended yet.
  bool Running();

  // The next line of stdout (without "\n"). DEADLINE_EXCEEDED after
  // `timeout`, OUT_OF_RANGE at end of output.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);

  // Every line of stdout until its end, or until no line came for `timeout`.
  std::string ReadToEnd(absl::Duration timeout);

 private:
  Subprocess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}

  pid_t pid_;
  int stdout_fd_;
  bool reaped_ = false;
  int exit_code_ = 0;
  std::string buffer_;
};

// The path of a project binary: $SWITCHBOARD_BIN_DIR/name (set by CTest),
// else ./name.
std::string BinaryPath(const std::string& name);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// A new empty directory under $TEST_TMPDIR or /tmp, removed by the caller.
std::string MakeTempDir(const std::string& prefix);

// Polls grpc.health.v1 Check("") at `target` every `poll` until SERVING or
// `timeout`.
absl::Status WaitForServing(const std::string& target, absl::Duration timeout,
                            absl::Duration poll = absl::Milliseconds(20));

// grpc.health.v1 Check(`service`) at `target`, once: "SERVING",
// "NOT_SERVING"…, or the call's error.
absl::StatusOr<std::string> HealthOf(const std::string& target, const std::string& service);

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_COMMON_TESTING_SUBPROCESS_H_
