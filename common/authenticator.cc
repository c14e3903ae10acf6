#include "common/authenticator.h"

#include <openssl/sha.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/proto_file.h"
#include "common/status.h"
#include "common/validation.h"

namespace switchboard {
namespace {

constexpr size_t kMaxPrincipalNameBytes = 256;
constexpr size_t kSha256Bytes = 32;

std::string RawSha256(absl::string_view text) {
  std::string digest(kSha256Bytes, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

absl::Status PolicyError(int index, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("access policy: principals[", index, "] ", what));
}

absl::StatusOr<RateLimit> ToRateLimit(const access::v1::RateLimit& limit, absl::string_view where) {
  if (!(limit.requests_per_second() >= 0) || limit.burst() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("access policy: ", where, " must not be negative"));
  }
  RateLimit result;
  result.requests_per_second = limit.requests_per_second();
  result.burst = limit.burst() > 0 ? limit.burst() : std::max(1.0, limit.requests_per_second());
  return result;
}

}  // namespace

absl::StatusOr<std::string> ReadSecurityFile(const std::string& path, absl::string_view what) {
  // A directory opens as a stream that reads nothing (a mounted secret's
  // directory given instead of the file in it, say): it is not a file.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path, ": a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  return text.str();
}

std::string Authenticator::HashToken(absl::string_view token) {
  return absl::BytesToHexString(RawSha256(token));
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const access::v1::AccessPolicy& policy, absl::string_view token_file) {
  auto authenticator = absl::WrapUnique(new Authenticator());
  ASSIGN_OR_RETURN(RateLimit default_limit,
                   ToRateLimit(policy.default_rate_limit(), "default_rate_limit"));
  for (int i = 0; i < policy.principals_size(); ++i) {
    const access::v1::Principal& principal = policy.principals(i);
    if (principal.name().empty() || principal.name().size() > kMaxPrincipalNameBytes) {
      return PolicyError(i, absl::StrCat("name must be 1..", kMaxPrincipalNameBytes, " bytes"));
    }
    if (principal.roles().empty()) return PolicyError(i, "needs at least one role");
    std::vector<Role> roles;
    for (const std::string& name : principal.roles()) {
      Role role;
      if (!ParseRole(name, &role)) {
        return PolicyError(i, absl::StrCat("has unknown role \"", name,
                                           "\"; roles are submitter, team_member, ruleset_admin, "
                                           "operator and service"));
      }
      roles.push_back(role);
    }
    for (const std::string& id : principal.sources()) {
      if (!IsValidId(id)) return PolicyError(i, absl::StrCat("has invalid source \"", id, "\""));
    }
    for (const std::string& id : principal.teams()) {
      if (!IsValidId(id)) return PolicyError(i, absl::StrCat("has invalid team \"", id, "\""));
    }
    Caller caller(principal.name(), roles, {principal.sources().begin(), principal.sources().end()},
                  {principal.teams().begin(), principal.teams().end()});
    if (caller.Has(Role::kSubmitter) && caller.sources().empty()) {
      return PolicyError(i, "is a submitter without sources");
    }
    if (caller.Has(Role::kTeamMember) && caller.teams().empty()) {
      return PolicyError(i, "is a team member without teams");
    }
    // The services' own calls are the system working, not a caller to
    // throttle: unlimited unless the policy says otherwise.
    RateLimit limit = caller.Has(Role::kService) ? RateLimit{} : default_limit;
    if (principal.has_rate_limit()) {
      ASSIGN_OR_RETURN(limit, ToRateLimit(principal.rate_limit(), "rate_limit"));
    }
    if (!authenticator->principals_.try_emplace(principal.name(), Entry{std::move(caller), limit})
             .second) {
      return PolicyError(i, absl::StrCat("repeats the name \"", principal.name(), "\""));
    }
  }

  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(token_file, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto error = [line_number](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("token file line ", line_number, ": ", what));
    };
    if (fields.size() != 2) return error("want \"<principal> <sha256 hex>\"");
    const std::string hex = absl::AsciiStrToLower(fields[1]);
    if (hex.size() != 2 * kSha256Bytes ||
        hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return error("the hash must be 64 hex digits (a SHA-256; never the token itself)");
    }
    if (!authenticator->principals_.contains(fields[0])) {
      return error(absl::StrCat("\"", fields[0], "\" is not a principal of the access policy"));
    }
    if (!authenticator->tokens_.try_emplace(absl::HexStringToBytes(hex), std::string(fields[0]))
             .second) {
      return error("repeats a token hash");
    }
  }
  return authenticator;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Load(
    const std::string& policy_path, const std::string& token_file_path) {
  access::v1::AccessPolicy policy;
  RETURN_IF_ERROR(LoadJsonOrYamlFile(policy_path, policy));
  std::string tokens;
  if (!token_file_path.empty()) {
    ASSIGN_OR_RETURN(tokens, ReadSecurityFile(token_file_path, "--token_file"));
  }
  return Create(policy, tokens);
}

absl::StatusOr<const Caller*> Authenticator::Authenticate(
    absl::string_view authorization, const std::vector<std::string>& certificate_names) const {
  if (!authorization.empty()) {
    absl::string_view token = authorization;
    if (!absl::ConsumePrefix(&token, "Bearer ") || token.empty()) {
      return absl::UnauthenticatedError("the authorization header must be \"Bearer <token>\"");
    }
    auto found = tokens_.find(RawSha256(token));
    if (found == tokens_.end()) return absl::UnauthenticatedError("unknown bearer token");
    return &principals_.at(found->second).caller;
  }
  for (const std::string& name : certificate_names) {
    auto found = principals_.find(name);
    if (found != principals_.end()) return &found->second.caller;
  }
  if (!certificate_names.empty()) {
    // Verified, so authenticated; but granted nothing.
    return absl::PermissionDeniedError(absl::StrCat("the client certificate (",
                                                    absl::StrJoin(certificate_names, ", "),
                                                    ") names no principal of the access policy"));
  }
  return absl::UnauthenticatedError(
      "no credentials: present a client certificate or an authorization bearer token");
}

absl::StatusOr<const Caller*> Authenticator::Find(absl::string_view name) const {
  auto found = principals_.find(name);
  if (found == principals_.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the access policy has no principal \"", name, "\""));
  }
  return &found->second.caller;
}

RateLimit Authenticator::RateLimitOf(const Caller& caller) const {
  auto found = principals_.find(caller.name());
  return found == principals_.end() ? RateLimit{} : found->second.limit;
}

}  // namespace switchboard
