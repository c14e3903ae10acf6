// Subscriber names: who a notification is for. Intake addresses events to
// them (the recipients of an IssueEvent), notification keeps a log per name,
// and callers act as them. Built and parsed only here.
//
//   teams/{team}               the owning team's tooling
//   business-groups/{group}    the business group's dashboards
//   sources/{source}           the submitting system (a CRM, a portal)
//   submitters/{submitter}     the person who raised the issue
#ifndef SWITCHBOARD_COMMON_SUBSCRIBER_H_
#define SWITCHBOARD_COMMON_SUBSCRIBER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace switchboard {

enum class SubscriberKind { kTeam, kBusinessGroup, kSource, kSubmitter };

struct Subscriber {
  SubscriberKind kind;
  absl::string_view id;  // a view into the parsed name
};

std::string TeamSubscriber(absl::string_view team);
std::string BusinessGroupSubscriber(absl::string_view group);
std::string SourceSubscriber(absl::string_view source);
std::string SubmitterSubscriber(absl::string_view submitter);

// The kind and id of `name`; nullopt unless it is one of the forms above
// with a valid id (common/validation.h: IsValidId, or IsValidSubmitter).
absl::optional<Subscriber> ParseSubscriber(absl::string_view name);

inline bool IsValidSubscriber(absl::string_view name) { return ParseSubscriber(name).has_value(); }

// What a subscriber field must look like, for field violations.
inline constexpr absl::string_view kSubscriberForm =
    "must be teams/{id}, business-groups/{id}, sources/{id} or submitters/{submitter}";

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_SUBSCRIBER_H_
