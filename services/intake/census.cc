#include "services/intake/census.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/proto_time.h"
#include "common/status.h"

namespace switchboard::intake {

using issue::v1::Issue;

OpenIssueCensus::OpenIssueCensus(const IssueStore& store, IntakeMetrics& metrics, Clock& clock,
                                 absl::Duration interval)
    : store_(store), metrics_(metrics), clock_(clock), task_(clock, interval, [this] {
        absl::StatusOr<Result> result = RunOnce();
        if (!result.ok()) log::Error("open-issue census failed", {{"error", result.status()}});
      }) {}

absl::StatusOr<OpenIssueCensus::Result> OpenIssueCensus::RunOnce() {
  MutexLock lock(mu_);
  const absl::Time now = clock_.Now();
  Result result;
  for (issue::v1::State state :
       {issue::v1::STATE_RECEIVED, issue::v1::STATE_ROUTED, issue::v1::STATE_ACKNOWLEDGED}) {
    const std::string label =
        absl::AsciiStrToLower(absl::StripPrefix(issue::v1::State_Name(state), "STATE_"));
    RETURN_IF_ERROR(store_.ForEachInState(state, [&](const Issue& issue) {
      const std::string& group = issue.assignment().target().business_group();
      Tally& tally = result[Key(label, metrics_.business_groups(group))];
      ++tally.issues;
      tally.oldest = std::max(tally.oldest, now - FromProtoTime(issue.create_time()));
    }));
  }
  for (const Key& key : published_) result.try_emplace(key);  // emptied since: zero
  for (const auto& [key, tally] : result) {
    const prometheus::Labels labels{{"state", key.first}, {"business_group", key.second}};
    metrics_.open_issues.Add(labels).Set(static_cast<double>(tally.issues));
    metrics_.open_issue_oldest_age.Add(labels).Set(absl::ToDoubleSeconds(tally.oldest));
    published_.insert(key);
  }
  return result;
}

}  // namespace switchboard::intake
