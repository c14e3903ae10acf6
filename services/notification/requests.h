// Validation of notification's requests: every check that needs nothing
// stored, made before a request touches a log. Each returns OK or
// INVALID_ARGUMENT with a field violation per problem (common/validation.h).
// Whether a sequence is within a log, or a page token is this query's, the
// core and the push deliverer decide after these.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_REQUESTS_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_REQUESTS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "switchboard/notification/v1/notification.pb.h"

namespace switchboard::notification {

inline constexpr int kMaxEvents = 1000;    // events in one Publish
inline constexpr int kMaxRecipients = 64;  // subscribers of one event
inline constexpr size_t kMaxEventIdBytes = 256;

absl::Status ValidatePublishRequest(const v1::PublishRequest& request);
absl::Status ValidateAcknowledgeNotificationsRequest(
    const v1::AcknowledgeNotificationsRequest& request);
absl::Status ValidateListNotificationsRequest(const v1::ListNotificationsRequest& request);
absl::Status ValidateSubscribeRequest(const v1::SubscribeRequest& request);
absl::Status ValidateCreatePushSubscriptionRequest(
    const v1::CreatePushSubscriptionRequest& request);
absl::Status ValidateDeletePushSubscriptionRequest(
    const v1::DeletePushSubscriptionRequest& request);
absl::Status ValidateListDeadLettersRequest(const v1::ListDeadLettersRequest& request);
absl::Status ValidateRedriveDeadLettersRequest(const v1::RedriveDeadLettersRequest& request);
absl::Status ValidateListDeliveryAttemptsRequest(const v1::ListDeliveryAttemptsRequest& request);

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_REQUESTS_H_
