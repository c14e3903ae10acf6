// Who is calling, once authenticated, and what that caller may do.
//
// A Caller is made by the Authenticator (common/authenticator.h) from the
// access policy, or is Caller::Local() when a service runs without caller
// authentication (the local stack on loopback), which may do everything.
// Permission checks are questions to the Caller; a "no" becomes
// PERMISSION_DENIED through Deny():
//
//   if (!caller.SubmitsAs(issue.source())) return caller.Deny("submit as source " + source);
#ifndef SWITCHBOARD_COMMON_CALLER_H_
#define SWITCHBOARD_COMMON_CALLER_H_

#include <bitset>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace switchboard {

enum class Role {
  kSubmitter,     // submits issues as its sources, reads theirs
  kTeamMember,    // acknowledges, resolves, transfers its teams' issues
  kRulesetAdmin,  // applies rulesets
  kOperator,      // reads everything, redrives dead letters
  kService,       // a Switchboard service calling another
};
inline constexpr int kRoleCount = 5;

// "submitter", "team_member", "ruleset_admin", "operator", "service".
absl::string_view RoleName(Role role);
// The role named `name`; false for an unknown name.
bool ParseRole(absl::string_view name, Role* role);

class Caller {
 public:
  // The caller of a service that authenticates nobody: every permission.
  static Caller Local();

  // An authenticated principal. Its class (for metrics) is its first role.
  Caller(std::string name, std::vector<Role> roles, absl::flat_hash_set<std::string> sources,
         absl::flat_hash_set<std::string> teams);

  // The identity ("local" for Local()): recorded as who changed something.
  const std::string& name() const { return name_; }
  // A bounded label for metrics: a role name, or "local".
  absl::string_view caller_class() const { return class_; }
  bool local() const { return local_; }

  bool Has(Role role) const { return local_ || roles_.test(static_cast<int>(role)); }
  bool HasAny(std::initializer_list<Role> roles) const;
  // A submitter of `source`.
  bool SubmitsAs(absl::string_view source) const;
  // A team member of `team`.
  bool ActsForTeam(absl::string_view team) const;
  // May read and acknowledge subscriber `subscriber`'s notifications and
  // manage its push subscription: "teams/{t}" for a member of t,
  // "sources/{s}" for a submitter of s.
  bool ActsAsSubscriber(absl::string_view subscriber) const;
  // The one source a submitter submits as when its request names none;
  // empty when it has none or several.
  std::string SoleSource() const;
  const absl::flat_hash_set<std::string>& sources() const { return sources_; }
  const absl::flat_hash_set<std::string>& teams() const { return teams_; }

  // PERMISSION_DENIED: "<name> (<class>) may not <action>".
  absl::Status Deny(absl::string_view action) const;

 private:
  Caller() = default;

  std::string name_;
  std::string class_;
  bool local_ = false;
  std::bitset<kRoleCount> roles_;
  absl::flat_hash_set<std::string> sources_;
  absl::flat_hash_set<std::string> teams_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_CALLER_H_
