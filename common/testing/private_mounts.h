// File systems a test can fill up without touching the machine's: the test
// process enters a mount namespace of its own, so that whatever it mounts
// (a small tmpfs) is seen by it and by the children it starts, and goes away
// with them. Needs root (CAP_SYS_ADMIN), as in CI; elsewhere tests skip,
// unless $SWITCHBOARD_REQUIRE_FAULT_TOOLS is set (scripts/test.sh sets it),
// so that CI cannot pass by skipping.
//
//   absl::Status entered = EnterPrivateMountNamespace();
//   if (!entered.ok()) SKIP_OR_FAIL(entered);
//   ASSERT_TRUE(MountTmpfs(dir, 48 << 20).ok());
#ifndef SWITCHBOARD_COMMON_TESTING_PRIVATE_MOUNTS_H_
#define SWITCHBOARD_COMMON_TESTING_PRIVATE_MOUNTS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"

namespace switchboard::testing {

// Moves the calling thread (and the processes it starts from then on) into
// a new mount namespace whose mounts do not propagate back; other threads
// keep the machine's view. Call it from the thread that mounts, fills the
// disk and starts the binaries, e.g. in SetUpTestSuite. Idempotent. FAILED_PRECONDITION naming
// the reason when the process may not (not root).
absl::Status EnterPrivateMountNamespace();

// Mounts a tmpfs of `bytes` at `dir` (which must exist), in the namespace
// entered above.
absl::Status MountTmpfs(const std::string& dir, size_t bytes);

// Unmounts what MountTmpfs mounted at `dir` (its contents go with it).
absl::Status Unmount(const std::string& dir);

// Whether a test that cannot enter a namespace must fail rather than skip.
bool FaultToolsRequired();

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_COMMON_TESTING_PRIVATE_MOUNTS_H_
