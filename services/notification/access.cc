#include "services/notification/access.h"

#include "absl/strings/str_cat.h"

namespace switchboard::notification {

absl::Status MayPublish(const Caller& caller) {
  return caller.Has(Role::kService) ? absl::OkStatus() : caller.Deny("publish");
}

absl::Status MayActAs(const Caller& caller, absl::string_view subscriber, absl::string_view verb) {
  if (caller.ActsAsSubscriber(subscriber)) return absl::OkStatus();
  return caller.Deny(absl::StrCat(verb, " as subscriber \"", subscriber, "\""));
}

absl::Status MayRead(const Caller& caller, absl::string_view subscriber, absl::string_view verb) {
  if (caller.Has(Role::kOperator)) return absl::OkStatus();
  if (subscriber.empty()) return caller.Deny(absl::StrCat(verb, " of every subscriber"));
  return MayActAs(caller, subscriber, verb);
}

absl::Status MayOperate(const Caller& caller, absl::string_view verb) {
  return caller.Has(Role::kOperator) ? absl::OkStatus() : caller.Deny(verb);
}

}  // namespace switchboard::notification
