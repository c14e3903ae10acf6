#include "services/notification/notification_metrics.h"

#include "common/metrics.h"

namespace switchboard::notification {

NotificationMetrics::NotificationMetrics(prometheus::Registry& registry)
    : events_published(prometheus::BuildCounter()
                           .Name("switchboard_notification_events_published_total")
                           .Help("Events accepted by Publish.")
                           .Register(registry)
                           .Add({})),
      appended(prometheus::BuildCounter()
                   .Name("switchboard_notification_appended_total")
                   .Help("Notifications appended to subscriber logs (duplicates skipped).")
                   .Register(registry)
                   .Add({})),
      delivered(prometheus::BuildCounter()
                    .Name("switchboard_notification_delivered_total")
                    .Help("Notifications delivered, by mode: stream or push.")
                    .Register(registry)),
      delivery_lag(prometheus::BuildHistogram()
                       .Name("switchboard_notification_delivery_lag_seconds")
                       .Help("From a notification's append to its delivery, by mode.")
                       .Register(registry)),
      open_streams(prometheus::BuildGauge()
                       .Name("switchboard_notification_open_streams")
                       .Help("Subscribe streams open now.")
                       .Register(registry)
                       .Add({})),
      push_subscriptions(prometheus::BuildGauge()
                             .Name("switchboard_notification_push_subscriptions")
                             .Help("Push subscriptions registered now.")
                             .Register(registry)
                             .Add({})),
      push_attempts(prometheus::BuildCounter()
                        .Name("switchboard_notification_push_attempts_total")
                        .Help("Push attempts, by outcome: delivered, failed or dead_lettered.")
                        .Register(registry)),
      push_failures(prometheus::BuildCounter()
                        .Name("switchboard_notification_push_failures_total")
                        .Help("Push attempts that failed, by gRPC status code.")
                        .Register(registry)),
      dead_lettered(prometheus::BuildCounter()
                        .Name("switchboard_notification_dead_lettered_total")
                        .Help("Notifications moved to the dead-letter list.")
                        .Register(registry)
                        .Add({})),
      redriven(prometheus::BuildCounter()
                   .Name("switchboard_notification_redriven_total")
                   .Help("Dead letters moved back to be pushed again.")
                   .Register(registry)
                   .Add({})),
      dead_letters(prometheus::BuildGauge()
                       .Name("switchboard_notification_dead_letters")
                       .Help("Notifications in the dead-letter list now.")
                       .Register(registry)
                       .Add({})),
      backlog(prometheus::BuildGauge()
                  .Name("switchboard_notification_backlog")
                  .Help("Notifications stored and not yet acknowledged, over all subscribers, "
                        "as of the last maintenance pass.")
                  .Register(registry)
                  .Add({})),
      backlog_oldest_age(prometheus::BuildGauge()
                             .Name("switchboard_notification_backlog_oldest_age_seconds")
                             .Help("Age of the oldest unacknowledged notification, as of the "
                                   "last maintenance pass; 0 when there is none.")
                             .Register(registry)
                             .Add({})),
      compacted(prometheus::BuildCounter()
                    .Name("switchboard_notification_compacted_total")
                    .Help("Acknowledged notifications deleted after the retention period.")
                    .Register(registry)
                    .Add({})) {
  // Both modes from the start, so that rates read 0 rather than nothing.
  for (const char* mode : {"stream", "push"}) {
    delivered.Add({{"mode", mode}});
    delivery_lag.Add({{"mode", mode}}, LatencyBuckets());
  }
}

}  // namespace switchboard::notification
