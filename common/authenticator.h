// Turns what a caller presents into a Caller, by the access policy.
//
// A caller presents a bearer token ("authorization: Bearer <token>") or a
// verified client certificate. A token is looked up by its SHA-256 in the
// token file, which lists hashes only:
//
//   # principal                sha256 of the token, hex
//   storage-oncall-bot         9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//
// (`printf %s "$TOKEN" | sha256sum` gives the hash). A certificate names its
// principal by any of its subject alternative names. A token, when present,
// decides: an unknown or malformed one is UNAUTHENTICATED even if a
// certificate came with it.
//
// UNAUTHENTICATED: no credential, or a token nobody in the policy holds.
// PERMISSION_DENIED: a verified certificate that names no principal (its
// holder is known, but granted nothing). What an authenticated caller may
// do, the services ask the Caller.
#ifndef SWITCHBOARD_COMMON_AUTHENTICATOR_H_
#define SWITCHBOARD_COMMON_AUTHENTICATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/caller.h"
#include "common/rate_limiter.h"
#include "switchboard/access/v1/access_policy.pb.h"

namespace switchboard {

class Authenticator {
 public:
  // Validates `policy` (unique non-empty names of at most 256 bytes, known
  // roles, at least one; sources for submitters, teams for team members;
  // rate limits not negative) and `token_file` (the file's text; may be
  // empty): INVALID_ARGUMENT saying what is wrong, with the line number for
  // the token file.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(
      const access::v1::AccessPolicy& policy, absl::string_view token_file);

  // Reads both files (token_file_path may be empty) and calls Create.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Load(const std::string& policy_path,
                                                             const std::string& token_file_path);

  // The caller presenting `authorization` (the header's value, "" for none)
  // and, from a verified certificate, `certificate_names` (its subject
  // alternative names). The pointer lives as long as the Authenticator.
  absl::StatusOr<const Caller*> Authenticate(
      absl::string_view authorization, const std::vector<std::string>& certificate_names) const;

  // The rate limit of an authenticated caller.
  RateLimit RateLimitOf(const Caller& caller) const;

  // The principal named `name`; PERMISSION_DENIED when the policy has none.
  absl::StatusOr<const Caller*> Find(absl::string_view name) const;

  // SHA-256 of `token`, lower-case hex.
  static std::string HashToken(absl::string_view token);

 private:
  struct Entry {
    Caller caller;
    RateLimit limit;
  };

  Authenticator() = default;

  absl::flat_hash_map<std::string, Entry> principals_;
  // Token hash (raw 32 bytes) → principal name.
  absl::flat_hash_map<std::string, std::string> tokens_;
};

// Reads a whole credential file (policy, tokens, certificates); NOT_FOUND
// naming `what` and the path if it cannot.
absl::StatusOr<std::string> ReadSecurityFile(const std::string& path, absl::string_view what);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_AUTHENTICATOR_H_
