#include "services/intake/publish_loop.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/logging.h"

namespace switchboard::intake {
namespace {

std::string LoopName(const Outbox& events) {
  absl::string_view suffix = events.name();
  absl::ConsumePrefix(&suffix, "event_queue");
  return absl::StrCat("publish", suffix);
}

}  // namespace

PublishLoop::PublishLoop(Outbox& events, IssueLedger& ledger, NotificationPeer& notification,
                         IntakeMetrics& metrics, Clock& clock, Options options)
    : events_(events),
      name_(LoopName(events)),
      ledger_(ledger),
      notification_(notification),
      metrics_(metrics),
      clock_(clock),
      options_(options),
      loop_(name_, clock, events.doorbell(), options.loop, [this] { return RunOnce(); }) {}

WorkerLoop::Step PublishLoop::RunOnce() {
  absl::StatusOr<std::vector<Outbox::Item>> items = events_.Peek(options_.batch);
  if (!items.ok()) {
    log::Error("cannot read the event queue", {{"status", items.status()}});
    return WorkerLoop::Step::Failed();
  }
  if (items->empty()) {
    metrics_.SetBacklog(name_, 0, absl::ZeroDuration());
    return WorkerLoop::Step::Idle();
  }
  const int64_t size = static_cast<int64_t>(items->size());
  if (size < options_.batch) {
    metrics_.SetBacklog(name_, size, clock_.Now() - items->front().append_time);
  } else if (absl::StatusOr<Outbox::Backlog> backlog = events_.Measure(); backlog.ok()) {
    metrics_.SetBacklog(name_, std::max<int64_t>(backlog->size, size), backlog->oldest_age);
  }

  notification::v1::PublishRequest request;
  size_t bytes = 0;
  size_t taken = 0;
  for (const Outbox::Item& item : *items) {
    if (taken > 0 && bytes + item.value.size() > options_.max_bytes) break;
    ++taken;
    bytes += item.value.size();
    if (!request.add_events()->ParseFromString(item.value)) {
      log::Error("dropping an event that does not parse", {{"sequence", item.sequence}});
      request.mutable_events()->RemoveLast();
    }
  }
  items->resize(taken);  // the rest go in the next call
  if (!request.events().empty()) {
    if (absl::Status status = notification_.Publish(request); !status.ok()) {
      metrics_.CountDispatchFailure("notification", status);
      log::Warning("Publish failed; retrying after a backoff",
                   {{"events", request.events_size()}, {"status", status}});
      return WorkerLoop::Step::Failed();
    }
  }
  if (absl::Status removed = ledger_.RemovePublished(events_, *items); !removed.ok()) {
    log::Error("cannot remove published events", {{"status", removed}});
    return WorkerLoop::Step::Failed();
  }
  events_.Consumed(items->back().sequence);
  return WorkerLoop::Step::Progress();
}

}  // namespace switchboard::intake
