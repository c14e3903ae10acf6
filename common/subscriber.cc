#include "common/subscriber.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/validation.h"

namespace switchboard {
namespace {

constexpr absl::string_view kTeams = "teams/";
constexpr absl::string_view kBusinessGroups = "business-groups/";
constexpr absl::string_view kSources = "sources/";
constexpr absl::string_view kSubmitters = "submitters/";

}  // namespace

std::string TeamSubscriber(absl::string_view team) { return absl::StrCat(kTeams, team); }
std::string BusinessGroupSubscriber(absl::string_view group) {
  return absl::StrCat(kBusinessGroups, group);
}
std::string SourceSubscriber(absl::string_view source) { return absl::StrCat(kSources, source); }
std::string SubmitterSubscriber(absl::string_view submitter) {
  return absl::StrCat(kSubmitters, submitter);
}

absl::optional<Subscriber> ParseSubscriber(absl::string_view name) {
  absl::string_view id = name;
  if (absl::ConsumePrefix(&id, kTeams)) {
    if (IsValidId(id)) return Subscriber{SubscriberKind::kTeam, id};
  } else if (absl::ConsumePrefix(&id, kBusinessGroups)) {
    if (IsValidId(id)) return Subscriber{SubscriberKind::kBusinessGroup, id};
  } else if (absl::ConsumePrefix(&id, kSources)) {
    if (IsValidId(id)) return Subscriber{SubscriberKind::kSource, id};
  } else if (absl::ConsumePrefix(&id, kSubmitters)) {
    if (IsValidSubmitter(id)) return Subscriber{SubscriberKind::kSubmitter, id};
  }
  return absl::nullopt;
}

}  // namespace switchboard
