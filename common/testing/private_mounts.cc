#include "common/testing/private_mounts.h"

#include <sched.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace switchboard::testing {

absl::Status EnterPrivateMountNamespace() {
  static bool entered = false;
  if (entered) return absl::OkStatus();
  if (unshare(CLONE_NEWNS) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot enter a mount namespace of its own (unshare: ", std::strerror(errno),
                     "); fault tests that fill a disk need root"));
  }
  // Mounts made here must not propagate to the machine's namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make / private: ", std::strerror(errno)));
  }
  entered = true;
  return absl::OkStatus();
}

absl::Status MountTmpfs(const std::string& dir, size_t bytes) {
  const std::string options = absl::StrCat("size=", bytes, ",mode=0755");
  if (mount("switchboard-test", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot mount a tmpfs at ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status Unmount(const std::string& dir) {
  if (umount2(dir.c_str(), MNT_DETACH) != 0) {
    return absl::InternalError(absl::StrCat("cannot unmount ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool FaultToolsRequired() {
  const char* required = std::getenv("SWITCHBOARD_REQUIRE_FAULT_TOOLS");
  return required != nullptr && *required != '\0' && std::strcmp(required, "0") != 0;
}

}  // namespace switchboard::testing
