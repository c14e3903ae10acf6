// The notification service's metrics: what was published, appended and
// delivered (by stream or push), push outcomes and dead letters, and the
// backlog that maintenance measures.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_METRICS_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace switchboard::notification {

struct NotificationMetrics {
  explicit NotificationMetrics(prometheus::Registry& registry);

  prometheus::Counter& events_published;
  prometheus::Counter& appended;
  prometheus::Family<prometheus::Counter>& delivered;       // {mode}
  prometheus::Family<prometheus::Histogram>& delivery_lag;  // {mode}
  prometheus::Gauge& open_streams;
  // Push delivery.
  prometheus::Gauge& push_subscriptions;
  prometheus::Family<prometheus::Counter>& push_attempts;  // {outcome}
  prometheus::Family<prometheus::Counter>& push_failures;  // {code}
  prometheus::Counter& dead_lettered;
  prometheus::Counter& redriven;
  prometheus::Gauge& dead_letters;
  // Maintenance.
  prometheus::Gauge& backlog;
  prometheus::Gauge& backlog_oldest_age;
  prometheus::Counter& compacted;
};

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_METRICS_H_
