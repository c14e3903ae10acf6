#include "services/intake/intake_core.h"

#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/page_token.h"
#include "common/status.h"
#include "common/validation.h"

namespace switchboard::intake {

using issue::v1::Issue;
using issue::v1::IssueEvent;

namespace {

constexpr int kScanBudget = 10000;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

// The fields a caller may set on SubmitIssue; the rest are output only.
Issue InputFields(const Issue& issue) {
  Issue input;
  input.set_title(issue.title());
  input.set_description(issue.description());
  *input.mutable_customer() = issue.customer();
  input.set_product(issue.product());
  input.set_severity(issue.severity());
  input.set_region(issue.region());
  *input.mutable_labels() = issue.labels();
  input.set_source(issue.source());
  input.set_submitter(issue.submitter());
  return input;
}

absl::string_view EventName(issue::v1::EventType type) {
  switch (type) {
    case issue::v1::EVENT_TYPE_RECEIVED:
      return "received";
    case issue::v1::EVENT_TYPE_ROUTED:
      return "routed";
    case issue::v1::EVENT_TYPE_ACKNOWLEDGED:
      return "acknowledged";
    case issue::v1::EVENT_TYPE_RESOLVED:
      return "resolved";
    case issue::v1::EVENT_TYPE_TRANSFERRED:
      return "transferred";
    case issue::v1::EVENT_TYPE_ESCALATED:
      return "escalated";
    default:
      return "unspecified";
  }
}

}  // namespace

uint64_t SubmissionFingerprint(const Issue& issue) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream output(&stream);
    output.SetSerializationDeterministic(true);  // map order must not matter
    InputFields(issue).SerializeWithCachedSizes(&output);
  }
  // FNV-1a over the deterministic serialization.
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

IssueEvent MakeEvent(issue::v1::EventType type, const Issue& issue, absl::Time time) {
  IssueEvent event;
  const absl::string_view id = absl::string_view(issue.name()).substr(7);
  // One event per issue version: stable across retries and restarts.
  event.set_id(absl::StrCat(id, "/", issue.etag(), "/", EventName(type)));
  event.set_type(type);
  *event.mutable_issue() = issue;
  *event.mutable_time() = ToTimestamp(time);
  auto add = [&event](const std::string& recipient) {
    for (const std::string& existing : event.recipients()) {
      if (existing == recipient) return;
    }
    event.add_recipients(recipient);
  };
  const auto& target = issue.assignment().target();
  switch (type) {
    case issue::v1::EVENT_TYPE_RECEIVED:
      add(absl::StrCat("sources/", issue.source()));
      break;
    case issue::v1::EVENT_TYPE_ROUTED:
      add(absl::StrCat("teams/", target.team()));
      add(absl::StrCat("business-groups/", target.business_group()));
      for (const auto& watcher : issue.assignment().watchers())
        add(absl::StrCat("teams/", watcher.team()));
      break;
    default:
      if (!target.team().empty()) add(absl::StrCat("teams/", target.team()));
      add(absl::StrCat("sources/", issue.source()));
      if (!issue.submitter().empty()) add(absl::StrCat("submitters/", issue.submitter()));
  }
  return event;
}

IntakeCore::IntakeCore(IssueStore& store, CommitQueue& commits, prometheus::Registry& registry,
                       Clock& clock, const std::string& last_id)
    : store_(store),
      commits_(commits),
      clock_(clock),
      ids_(clock, last_id),
      submitted_(prometheus::BuildCounter()
                     .Name("switchboard_intake_issues_submitted_total")
                     .Help("Issues accepted by SubmitIssue (not counting idempotent retries), by "
                           "source and severity.")
                     .Register(registry)) {}

absl::StatusOr<std::unique_ptr<IntakeCore>> IntakeCore::Create(IssueStore& store,
                                                               CommitQueue& commits,
                                                               prometheus::Registry& registry,
                                                               Clock& clock) {
  ASSIGN_OR_RETURN(const std::string last_id, store.LastIssueId());
  ASSIGN_OR_RETURN(const uint64_t next_route, store.NextRouteSequence());
  ASSIGN_OR_RETURN(const uint64_t next_event, store.NextEventSequence());
  auto core = absl::WrapUnique(new IntakeCore(store, commits, registry, clock, last_id));
  MutexLock lock(core->mu_);
  core->next_route_sequence_ = next_route;
  core->next_event_sequence_ = next_event;
  return core;
}

void IntakeCore::Submit(const v1::SubmitIssueRequest& request, IssueDone done) {
  Violations violations;
  ValidateIssueInput(request.issue(), "issue", violations);
  CheckText(violations, "request_id", request.request_id(), 1, 128);
  if (absl::Status invalid = violations.ToStatus("SubmitIssueRequest"); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  const std::string& request_id = request.request_id();
  const uint64_t fingerprint = SubmissionFingerprint(request.issue());
  enum class Outcome { kQueued, kJoined, kConflict, kKnown, kError };
  Outcome outcome = Outcome::kQueued;
  absl::Status error;
  std::string known_id;
  Issue issue;
  rocksdb::WriteBatch batch;
  {
    MutexLock lock(mu_);
    auto in_flight = in_flight_.find(request_id);
    absl::StatusOr<absl::optional<RequestRecord>> record;
    if (in_flight != in_flight_.end()) {
      if (in_flight->second.fingerprint == fingerprint) {
        in_flight->second.waiters.push_back(std::move(done));  // completes with the first
        outcome = Outcome::kJoined;
      } else {
        outcome = Outcome::kConflict;
      }
    } else if (record = store_.FindRequest(request_id); !record.ok()) {
      outcome = Outcome::kError;
      error = record.status();
    } else if (record->has_value()) {
      outcome = (*record)->fingerprint == fingerprint ? Outcome::kKnown : Outcome::kConflict;
      known_id = (*record)->issue_id;
    } else {
      const absl::Time now = clock_.Now();
      issue = InputFields(request.issue());
      issue.set_name(IssueName(ids_.Next()));
      issue.set_state(issue::v1::STATE_RECEIVED);
      *issue.mutable_create_time() = ToTimestamp(now);
      *issue.mutable_update_time() = ToTimestamp(now);
      issue.set_etag("1");
      std::vector<std::pair<uint64_t, IssueEvent>> events;
      events.emplace_back(next_event_sequence_++,
                          MakeEvent(issue::v1::EVENT_TYPE_RECEIVED, issue, now));
      store_.AddNewIssue(issue, request_id, fingerprint, next_route_sequence_++, events, batch);
      in_flight_[request_id] = InFlight{fingerprint, {}};
      in_flight_[request_id].waiters.push_back(std::move(done));
    }
  }
  switch (outcome) {
    case Outcome::kQueued:
      commits_.Commit(std::move(batch), [this, request_id, issue](const absl::Status& status) {
        FinishSubmit(request_id, status, issue);
      });
      return;
    case Outcome::kJoined:
      return;
    case Outcome::kConflict:
      std::move(done)(absl::AlreadyExistsError(
          absl::StrCat("request_id \"", request_id, "\" was already used for a different issue")));
      return;
    case Outcome::kKnown:
      std::move(done)(store_.Get(known_id));  // the same issue, as it is now
      return;
    case Outcome::kError:
      std::move(done)(error);
      return;
  }
}

void IntakeCore::FinishSubmit(const std::string& request_id, const absl::Status& status,
                              const Issue& issue) {
  std::vector<IssueDone> waiters;
  {
    MutexLock lock(mu_);
    auto in_flight = in_flight_.find(request_id);
    waiters = std::move(in_flight->second.waiters);
    in_flight_.erase(in_flight);
  }
  if (status.ok()) {
    submitted_
        .Add({{"source", issue.source()}, {"severity", issue::v1::Severity_Name(issue.severity())}})
        .Increment();
  }
  for (IssueDone& waiter : waiters) {
    if (status.ok()) {
      std::move(waiter)(issue);
    } else {
      std::move(waiter)(status);
    }
  }
}

absl::StatusOr<Issue> IntakeCore::Get(const v1::GetIssueRequest& request) const {
  const absl::string_view id = IssueIdFromName(request.name());
  if (id.empty()) {
    return InvalidArgumentWithViolations(
        "invalid GetIssueRequest: name must be issues/{issue_id}",
        {{"name", "must be issues/{issue_id}, a 26-character id"}});
  }
  return store_.Get(id);
}

absl::StatusOr<v1::ListIssuesResponse> IntakeCore::List(
    const v1::ListIssuesRequest& request) const {
  ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size(), 100, 1000));
  ASSIGN_OR_RETURN(const std::vector<FilterTerm> terms, ParseIssueFilter(request.filter()));
  std::string before;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(before, DecodePageToken(request.page_token(), "issues", request.filter()));
    if (!IsValidIssueId(before)) {
      return InvalidArgumentWithViolations("invalid page_token",
                                           {{"page_token", "not a page token"}});
    }
  }
  std::string resume;
  ASSIGN_OR_RETURN(
      std::vector<Issue> page,
      store_.List(terms, before, page_size, std::max(kScanBudget, 10 * page_size), &resume));
  v1::ListIssuesResponse response;
  for (Issue& issue : page) *response.add_issues() = std::move(issue);
  if (!resume.empty())
    response.set_next_page_token(EncodePageToken("issues", request.filter(), resume));
  return response;
}

}  // namespace switchboard::intake
