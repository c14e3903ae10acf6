#include "common/caller.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/subscriber.h"

namespace switchboard {
namespace {

constexpr std::array<absl::string_view, kRoleCount> kRoleNames = {
    "submitter", "team_member", "ruleset_admin", "operator", "service"};

}  // namespace

absl::string_view RoleName(Role role) { return kRoleNames[static_cast<int>(role)]; }

bool ParseRole(absl::string_view name, Role* role) {
  for (int i = 0; i < kRoleCount; ++i) {
    if (kRoleNames[i] == name) {
      *role = static_cast<Role>(i);
      return true;
    }
  }
  return false;
}

Caller Caller::Local() {
  Caller caller;
  caller.name_ = "local";
  caller.class_ = "local";
  caller.local_ = true;
  return caller;
}

Caller::Caller(std::string name, std::vector<Role> roles, absl::flat_hash_set<std::string> sources,
               absl::flat_hash_set<std::string> teams)
    : name_(std::move(name)),
      class_(roles.empty() ? "none" : RoleName(roles.front())),
      sources_(std::move(sources)),
      teams_(std::move(teams)) {
  for (Role role : roles) roles_.set(static_cast<int>(role));
}

bool Caller::HasAny(std::initializer_list<Role> roles) const {
  for (Role role : roles) {
    if (Has(role)) return true;
  }
  return false;
}

bool Caller::SubmitsAs(absl::string_view source) const {
  return local_ || (Has(Role::kSubmitter) && sources_.contains(source));
}

bool Caller::ActsForTeam(absl::string_view team) const {
  return local_ || (Has(Role::kTeamMember) && teams_.contains(team));
}

bool Caller::ActsAsSubscriber(absl::string_view subscriber) const {
  if (local_) return true;
  const absl::optional<Subscriber> parsed = ParseSubscriber(subscriber);
  if (!parsed.has_value()) return false;
  if (parsed->kind == SubscriberKind::kTeam) return ActsForTeam(parsed->id);
  if (parsed->kind == SubscriberKind::kSource) return SubmitsAs(parsed->id);
  return false;
}

std::string Caller::SoleSource() const {
  if (!Has(Role::kSubmitter) || sources_.size() != 1) return "";
  return *sources_.begin();
}

absl::Status Caller::Deny(absl::string_view action) const {
  return absl::PermissionDeniedError(absl::StrCat(name_, " (", class_, ") may not ", action));
}

}  // namespace switchboard
