#include "services/notification/notification_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/metrics.h"
#include "common/page_token.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/validation.h"
#include "services/notification/requests.h"

namespace switchboard::notification {
namespace {

std::string DedupKey(absl::string_view subscriber, absl::string_view event_id) {
  return absl::StrCat(subscriber, absl::string_view("\0", 1), event_id);
}

}  // namespace

NotificationCore::NotificationCore(LogStore& store, CommitQueue& commits,
                                   NotificationMetrics& metrics, Clock& clock)
    : store_(store), commits_(commits), metrics_(metrics), clock_(clock) {}

absl::StatusOr<uint64_t> NotificationCore::LastSequenceLocked(const std::string& subscriber) {
  auto it = last_.find(subscriber);
  if (it != last_.end()) return it->second;
  ASSIGN_OR_RETURN(const uint64_t last, store_.LastSequence(subscriber));
  last_[subscriber] = last;
  return last;
}

void NotificationCore::Publish(const v1::PublishRequest& request, PublishDone done) {
  if (absl::Status invalid = ValidatePublishRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }

  absl::Status error;
  {
    MutexLock lock(mu_);
    rocksdb::WriteBatch batch;
    std::vector<std::string> keys;
    absl::flat_hash_set<std::string> in_request;  // keys of this request, seen once
    std::vector<std::string> subscribers;
    absl::flat_hash_map<std::string, uint64_t> before;  // to undo last_ on error
    const google::protobuf::Timestamp now = ToProtoTime(clock_.Now());
    for (const issue::v1::IssueEvent& event : request.events()) {
      for (const std::string& subscriber : event.recipients()) {
        const std::string key = DedupKey(subscriber, event.id());
        if (queued_.contains(key) || !in_request.insert(key).second) continue;
        absl::StatusOr<bool> stored = store_.HasEvent(subscriber, event.id());
        absl::StatusOr<uint64_t> last =
            stored.ok() ? LastSequenceLocked(subscriber) : stored.status();
        if (!last.ok()) {
          error = last.status();
          break;
        }
        if (*stored) continue;
        v1::Notification notification;
        notification.set_subscriber(subscriber);
        notification.set_sequence(*last + 1);
        *notification.mutable_event() = event;
        *notification.mutable_publish_time() = now;
        store_.Append(notification, batch);
        before.emplace(subscriber, *last);
        last_[subscriber] = *last + 1;
        keys.push_back(key);
        subscribers.push_back(subscriber);
      }
      if (!error.ok()) break;
    }
    if (error.ok()) {
      for (const std::string& key : keys) queued_.insert(key);
      const int64_t events = request.events_size();
      commits_.Commit(std::move(batch), [this, keys, subscribers, events, done = std::move(done)](
                                            const absl::Status& status) mutable {
        {
          MutexLock committed(mu_);
          for (const std::string& key : keys) queued_.erase(key);
          // The database refused the batch and will refuse the ones after
          // it: forget what was given out and read the logs again.
          if (!status.ok()) last_.clear();
        }
        if (!status.ok()) {
          std::move(done)(status);
          return;
        }
        metrics_.events_published.Increment(static_cast<double>(events));
        metrics_.appended.Increment(static_cast<double>(keys.size()));
        Appended(subscribers);
        v1::PublishResponse response;
        response.set_appended(static_cast<int64_t>(keys.size()));
        std::move(done)(response);
      });
      return;
    }
    for (const auto& [subscriber, last] : before) last_[subscriber] = last;
  }
  std::move(done)(error);
}

void NotificationCore::Appended(const std::vector<std::string>& subscribers) {
  MutexLock lock(watch_mu_);
  absl::flat_hash_set<std::string> woken;
  for (const std::string& subscriber : subscribers) {
    if (!woken.insert(subscriber).second) continue;
    auto it = watchers_.find(subscriber);
    if (it == watchers_.end()) continue;
    for (LogWatcher* watcher : it->second) watcher->OnAppended();
  }
}

void NotificationCore::Acknowledge(const v1::AcknowledgeNotificationsRequest& request,
                                   AckDone done) {
  if (absl::Status invalid = ValidateAcknowledgeNotificationsRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  const std::string& subscriber = request.subscriber();
  absl::Status error;
  uint64_t cursor = 0;
  {
    MutexLock lock(mu_);
    absl::StatusOr<uint64_t> last = LastSequenceLocked(subscriber);
    absl::StatusOr<uint64_t> stored = last.ok() ? store_.Cursor(subscriber) : last.status();
    if (!stored.ok()) {
      error = stored.status();
    } else if (request.sequence() > *last) {
      error = InvalidArgumentWithViolations(
          absl::StrCat("sequence ", request.sequence(), " is beyond the end of the log of ",
                       subscriber, " (", *last, ")"),
          {{"sequence", absl::StrCat("at most ", *last)}});
    } else {
      rocksdb::WriteBatch batch;
      cursor = AdvanceCursorLocked(subscriber, *stored, request.sequence(), batch);
      commits_.Commit(std::move(batch), [this, subscriber, cursor, done = std::move(done)](
                                            const absl::Status& status) mutable {
        if (!status.ok()) {
          ForgetCursor(subscriber);
          std::move(done)(status);
          return;
        }
        v1::AcknowledgeNotificationsResponse response;
        response.set_acknowledged_sequence(cursor);
        std::move(done)(response);
      });
      return;
    }
  }
  std::move(done)(error);
}

uint64_t NotificationCore::AdvanceCursorLocked(const std::string& subscriber, uint64_t stored,
                                               uint64_t sequence, rocksdb::WriteBatch& batch) {
  uint64_t& current = cursors_[subscriber];
  current = std::max(current, stored);
  if (sequence > current) {
    store_.SetCursor(subscriber, sequence, batch);
    current = sequence;
  }
  return current;
}

void NotificationCore::CommitWithCursor(const std::string& subscriber, uint64_t sequence,
                                        rocksdb::WriteBatch batch, CommitQueue::Done done) {
  MutexLock lock(mu_);
  if (sequence > 0) {
    uint64_t stored = 0;
    if (!cursors_.contains(subscriber)) {
      absl::StatusOr<uint64_t> read = store_.Cursor(subscriber);
      if (!read.ok()) {
        std::move(done)(read.status());
        return;
      }
      stored = *read;
    }
    AdvanceCursorLocked(subscriber, stored, sequence, batch);
  }
  commits_.Commit(std::move(batch),
                  [this, subscriber, done = std::move(done)](const absl::Status& status) mutable {
                    if (!status.ok()) ForgetCursor(subscriber);
                    std::move(done)(status);
                  });
}

void NotificationCore::ForgetCursor(const std::string& subscriber) {
  MutexLock lock(mu_);
  cursors_.erase(subscriber);
}

absl::StatusOr<uint64_t> NotificationCore::AcknowledgedCursor(const std::string& subscriber) {
  MutexLock lock(mu_);
  auto it = cursors_.find(subscriber);
  if (it != cursors_.end()) return it->second;
  return store_.Cursor(subscriber);
}

absl::StatusOr<v1::ListNotificationsResponse> NotificationCore::List(
    const v1::ListNotificationsRequest& request) const {
  RETURN_IF_ERROR(ValidateListNotificationsRequest(request));
  ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size(), 100, 1000));
  uint64_t after = 0;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(const std::string position,
                     DecodePageToken(request.page_token(), "notifications", request.subscriber()));
    if (!absl::SimpleAtoi(position, &after)) {
      return InvalidArgumentWithViolations("invalid page_token",
                                           {{"page_token", "not a page token"}});
    }
  }
  ASSIGN_OR_RETURN(std::vector<v1::Notification> page,
                   store_.ReadAfter(request.subscriber(), after, page_size + 1));
  v1::ListNotificationsResponse response;
  const bool more = static_cast<int>(page.size()) > page_size;
  if (more) page.pop_back();
  for (v1::Notification& notification : page)
    *response.add_notifications() = std::move(notification);
  if (more) {
    response.set_next_page_token(
        EncodePageToken("notifications", request.subscriber(),
                        absl::StrCat(response.notifications().rbegin()->sequence())));
  }
  return response;
}

absl::StatusOr<uint64_t> NotificationCore::StartAfter(const v1::SubscribeRequest& request) const {
  RETURN_IF_ERROR(ValidateSubscribeRequest(request));
  if (request.start_after() > 0) return request.start_after();
  return store_.Cursor(request.subscriber());
}

absl::StatusOr<std::vector<v1::Notification>> NotificationCore::ReadAfter(
    absl::string_view subscriber, uint64_t after, int limit) const {
  return store_.ReadAfter(subscriber, after, limit);
}

void NotificationCore::Watch(const std::string& subscriber, LogWatcher* watcher) {
  bool shut_down;
  {
    MutexLock lock(watch_mu_);
    shut_down = shut_down_;
    if (!shut_down) watchers_[subscriber].insert(watcher);
  }
  if (shut_down) watcher->OnShutdown();
}

void NotificationCore::Unwatch(const std::string& subscriber, LogWatcher* watcher) {
  MutexLock lock(watch_mu_);
  auto it = watchers_.find(subscriber);
  if (it == watchers_.end()) return;
  it->second.erase(watcher);
  if (it->second.empty()) watchers_.erase(it);
}

void NotificationCore::Shutdown() {
  MutexLock lock(watch_mu_);
  shut_down_ = true;
  for (auto& [subscriber, watchers] : watchers_) {
    for (LogWatcher* watcher : watchers) watcher->OnShutdown();
  }
}

}  // namespace switchboard::notification
