#include "services/notification/requests.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/host_port.h"
#include "common/subscriber.h"
#include "common/validation.h"

namespace switchboard::notification {
namespace {

void CheckSubscriber(Violations& violations, const std::string& field,
                     absl::string_view subscriber) {
  if (!IsValidSubscriber(subscriber)) violations.Add(field, std::string(kSubscriberForm));
}

// Requests that name one subscriber, or (when `optional`) may name none.
absl::Status ValidateSubscriberOnly(absl::string_view what, const std::string& subscriber,
                                    bool optional = false) {
  Violations violations;
  if (!optional || !subscriber.empty()) CheckSubscriber(violations, "subscriber", subscriber);
  return violations.ToStatus(what);
}

}  // namespace

absl::Status ValidatePublishRequest(const v1::PublishRequest& request) {
  Violations violations;
  if (request.events_size() < 1 || request.events_size() > kMaxEvents) {
    violations.Add("events", absl::StrCat("between 1 and ", kMaxEvents, " events"));
  }
  for (int i = 0; i < request.events_size() && i < kMaxEvents; ++i) {
    const issue::v1::IssueEvent& event = request.events(i);
    const std::string path = absl::StrCat("events[", i, "]");
    CheckText(violations, path + ".id", event.id(), 1, kMaxEventIdBytes);
    CheckEnum<issue::v1::EventType>(violations, path + ".type", event.type(), Presence::kRequired);
    if (event.recipients().empty() || event.recipients_size() > kMaxRecipients) {
      violations.Add(path + ".recipients",
                     absl::StrCat("between 1 and ", kMaxRecipients, " recipients"));
    }
    for (int r = 0; r < event.recipients_size() && r < kMaxRecipients; ++r) {
      CheckSubscriber(violations, absl::StrCat(path, ".recipients[", r, "]"), event.recipients(r));
    }
  }
  return violations.ToStatus("PublishRequest");
}

absl::Status ValidateAcknowledgeNotificationsRequest(
    const v1::AcknowledgeNotificationsRequest& request) {
  Violations violations;
  CheckSubscriber(violations, "subscriber", request.subscriber());
  if (request.sequence() == 0) violations.Add("sequence", "required: the last sequence handled");
  return violations.ToStatus("AcknowledgeNotificationsRequest");
}

absl::Status ValidateListNotificationsRequest(const v1::ListNotificationsRequest& request) {
  return ValidateSubscriberOnly("ListNotificationsRequest", request.subscriber());
}

absl::Status ValidateSubscribeRequest(const v1::SubscribeRequest& request) {
  return ValidateSubscriberOnly("SubscribeRequest", request.subscriber());
}

absl::Status ValidateCreatePushSubscriptionRequest(
    const v1::CreatePushSubscriptionRequest& request) {
  Violations violations;
  const v1::PushSubscription& wanted = request.subscription();
  CheckSubscriber(violations, "subscription.subscriber", wanted.subscriber());
  if (!IsValidEndpoint(wanted.endpoint())) {
    violations.Add("subscription.endpoint", "must be host:port");
  }
  return violations.ToStatus("CreatePushSubscriptionRequest");
}

absl::Status ValidateDeletePushSubscriptionRequest(
    const v1::DeletePushSubscriptionRequest& request) {
  return ValidateSubscriberOnly("DeletePushSubscriptionRequest", request.subscriber());
}

absl::Status ValidateListDeadLettersRequest(const v1::ListDeadLettersRequest& request) {
  return ValidateSubscriberOnly("ListDeadLettersRequest", request.subscriber(),
                                /*optional=*/true);
}

absl::Status ValidateRedriveDeadLettersRequest(const v1::RedriveDeadLettersRequest& request) {
  return ValidateSubscriberOnly("RedriveDeadLettersRequest", request.subscriber(),
                                /*optional=*/true);
}

absl::Status ValidateListDeliveryAttemptsRequest(const v1::ListDeliveryAttemptsRequest& request) {
  Violations violations;
  if (request.subscriber().empty() && request.event_id().empty()) {
    violations.Add("subscriber", "one of subscriber and event_id is required");
  } else if (!request.subscriber().empty()) {
    CheckSubscriber(violations, "subscriber", request.subscriber());
  }
  if (!request.event_id().empty()) {
    CheckText(violations, "event_id", request.event_id(), 1, kMaxEventIdBytes);
  }
  return violations.ToStatus("ListDeliveryAttemptsRequest");
}

}  // namespace switchboard::notification
