#include "services/intake/census.h"

#include <algorithm>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/proto_time.h"
#include "common/status.h"

namespace switchboard::intake {

using issue::v1::Issue;

namespace {

bool IsOpen(issue::v1::State state) {
  return state == issue::v1::STATE_RECEIVED || state == issue::v1::STATE_ROUTED ||
         state == issue::v1::STATE_ACKNOWLEDGED || state == issue::v1::STATE_WAITING_ON_CUSTOMER;
}

}  // namespace

std::unique_ptr<OpenIssues> OpenIssues::Load(const IssueStore& store) {
  auto open = absl::WrapUnique(new OpenIssues());
  open->loader_ = std::thread(&OpenIssues::Run, open.get(), std::cref(store), store.TakeSnapshot());
  return open;
}

OpenIssues::~OpenIssues() {
  stop_ = true;
  if (loader_.joinable()) loader_.join();
}

void OpenIssues::Run(const IssueStore& store, std::unique_ptr<rocksdb::ManagedSnapshot> snapshot) {
  const absl::Time started = absl::Now();
  // Counted apart, then added at once: the census never shows half a pass.
  std::vector<Place> stored;
  for (issue::v1::State state :
       {issue::v1::STATE_RECEIVED, issue::v1::STATE_ROUTED, issue::v1::STATE_ACKNOWLEDGED,
        issue::v1::STATE_WAITING_ON_CUSTOMER}) {
    absl::Status status = store.ForEachInState(
        state,
        [&](const Issue& issue) {
          stored.push_back(Place::Of(issue));
          return !stop_;
        },
        snapshot->snapshot());
    if (!status.ok()) {
      log::Error("counting the open issues failed; the open-issue gauges stay unset",
                 {{"error", status}});
      return;
    }
  }
  if (stop_) return;
  MutexLock lock(mu_);
  for (const Place& place : stored) AddLocked(place, 1);
  loaded_ = true;
  loaded_changed_.SignalAll();
  log::Info("open issues counted", {{"issues", static_cast<int64_t>(stored.size())},
                                    {"seconds", absl::ToDoubleSeconds(absl::Now() - started)}});
}

bool OpenIssues::loaded() const {
  MutexLock lock(mu_);
  return loaded_;
}

void OpenIssues::WaitUntilLoaded() const {
  MutexLock lock(mu_);
  while (!loaded_) loaded_changed_.Wait(mu_);
}

OpenIssues::Place OpenIssues::Place::Of(const Issue& issue) {
  return {.state = issue.state(),
          .business_group = issue.assignment().target().business_group(),
          .created = FromProtoTime(issue.create_time())};
}

void OpenIssues::Changed(const Place* before, const Place& after) {
  MutexLock lock(mu_);
  if (before != nullptr) AddLocked(*before, -1);
  AddLocked(after, 1);
}

void OpenIssues::AddLocked(const Place& place, int64_t delta) {
  if (!IsOpen(place.state)) return;
  Key key(place.state, place.business_group);
  Open& open = open_[key];
  open.issues += delta;
  int64_t& count = open.by_creation[place.created];
  count += delta;
  if (count == 0) open.by_creation.erase(place.created);
  if (open.by_creation.empty()) open_.erase(key);
}

absl::flat_hash_map<OpenIssues::Key, OpenIssues::Tally> OpenIssues::Tallies() const {
  absl::flat_hash_map<Key, Tally> tallies;
  MutexLock lock(mu_);
  for (const auto& [key, open] : open_) {
    if (open.issues <= 0) continue;
    Tally tally{.issues = open.issues};
    for (const auto& [created, count] : open.by_creation) {
      if (count > 0) {  // the first, but for an issue counted out before in
        tally.oldest = created;
        break;
      }
    }
    tallies[key] = tally;
  }
  return tallies;
}

OpenIssueCensus::OpenIssueCensus(const OpenIssues& open, IntakeMetrics& metrics, Clock& clock,
                                 absl::Duration interval)
    : open_(open),
      metrics_(metrics),
      clock_(clock),
      task_(clock, interval, [this] { RunOnce(); }) {}

OpenIssueCensus::Result OpenIssueCensus::RunOnce() {
  MutexLock lock(mu_);
  const absl::Time now = clock_.Now();
  Result result;
  if (!open_.loaded()) return result;  // still counting what is stored
  for (const auto& [key, tally] : open_.Tallies()) {
    const std::string label =
        absl::AsciiStrToLower(absl::StripPrefix(issue::v1::State_Name(key.first), "STATE_"));
    Tally& counted = result[Key(label, metrics_.business_groups(key.second))];
    counted.issues += tally.issues;
    counted.oldest = std::max(counted.oldest, now - tally.oldest);
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
