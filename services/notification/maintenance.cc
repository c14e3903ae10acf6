#include "services/notification/maintenance.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "common/status.h"

namespace switchboard::notification {
namespace {

// Logs read, and records deleted, per step; bounds each write batch.
constexpr int kLogsPerStep = 1000;
constexpr int kDeletesPerBatch = 10000;

}  // namespace

Maintenance::Maintenance(LogStore& logs, PushStore& pushes, CommitQueue& commits,
                         NotificationMetrics& metrics, Clock& clock, Options options)
    : logs_(logs),
      pushes_(pushes),
      commits_(commits),
      metrics_(metrics),
      clock_(clock),
      options_(options) {}

Maintenance::~Maintenance() { Stop(); }

void Maintenance::Start() { task_.Start(); }

void Maintenance::Stop() { task_.Stop(); }

void Maintenance::RunAndLog() {
  absl::StatusOr<Report> report = RunOnce();
  if (!report.ok()) {
    log::Error("maintenance pass failed", {{"error", report.status().ToString()}});
  } else if (report->compacted_notifications + report->compacted_attempts > 0) {
    log::Info("compacted", {{"notifications", report->compacted_notifications},
                            {"attempts", report->compacted_attempts}});
  }
}

absl::StatusOr<Maintenance::Report> Maintenance::RunOnce() {
  Report report;
  const absl::Time now = clock_.Now();
  const absl::Time cutoff = now - options_.retention;
  absl::Time oldest = absl::InfiniteFuture();
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(const std::vector<LogStore::LogState> logs, logs_.Logs(after, kLogsPerStep));
    rocksdb::WriteBatch batch;
    for (const LogStore::LogState& log : logs) {
      report.backlog += log.last - std::min(log.cursor, log.last);
      if (log.oldest_unacknowledged != absl::InfinitePast())
        oldest = std::min(oldest, log.oldest_unacknowledged);
      ASSIGN_OR_RETURN(const int64_t deleted, logs_.Compact(log, cutoff, kDeletesPerBatch, batch));
      report.compacted_notifications += deleted;
      if (batch.Count() >= kDeletesPerBatch) {
        RETURN_IF_ERROR(commits_.CommitAndWait(std::move(batch)));
        batch = rocksdb::WriteBatch();
      }
    }
    RETURN_IF_ERROR(commits_.CommitAndWait(std::move(batch)));
    if (static_cast<int>(logs.size()) < kLogsPerStep) break;
    after = logs.back().subscriber;
  }
  for (;;) {
    rocksdb::WriteBatch batch;
    ASSIGN_OR_RETURN(const int64_t deleted,
                     pushes_.DeleteAttemptsBefore(cutoff, kDeletesPerBatch, batch));
    RETURN_IF_ERROR(commits_.CommitAndWait(std::move(batch)));
    report.compacted_attempts += deleted;
    if (deleted < kDeletesPerBatch) break;
  }
  if (oldest != absl::InfiniteFuture())
    report.oldest_unacknowledged_age = std::max(absl::ZeroDuration(), now - oldest);
  metrics_.backlog.Set(static_cast<double>(report.backlog));
  metrics_.backlog_oldest_age.Set(absl::ToDoubleSeconds(report.oldest_unacknowledged_age));
  metrics_.compacted.Increment(static_cast<double>(report.compacted_notifications));
  return report;
}

}  // namespace switchboard::notification
