// A stable 64-bit fingerprint (FNV-1a) of bytes: the same across processes,
// builds and versions, unlike absl::Hash. Not for security.
#ifndef SWITCHBOARD_COMMON_FINGERPRINT_H_
#define SWITCHBOARD_COMMON_FINGERPRINT_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace switchboard {

inline uint64_t Fingerprint(absl::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_FINGERPRINT_H_
