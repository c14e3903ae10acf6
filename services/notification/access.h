// Who may do what in notification, in one place: a subscriber's
// notifications and push subscription are its own (a team's members, a
// source's submitters); operators read everything and redrive dead letters;
// only services publish. Each returns OK or the caller's PERMISSION_DENIED.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_ACCESS_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_ACCESS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/caller.h"

namespace switchboard::notification {

// Publish.
absl::Status MayPublish(const Caller& caller);

// Acting as `subscriber`: acknowledging its notifications, managing its
// push subscription.
absl::Status MayActAs(const Caller& caller, absl::string_view subscriber, absl::string_view verb);

// Reading `subscriber`'s notifications, dead letters or attempts (operators:
// any subscriber's, or every subscriber's with "").
absl::Status MayRead(const Caller& caller, absl::string_view subscriber, absl::string_view verb);

// Operations across subscribers: listing push subscriptions, redriving.
absl::Status MayOperate(const Caller& caller, absl::string_view verb);

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_ACCESS_H_
