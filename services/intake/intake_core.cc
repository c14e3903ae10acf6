#include "services/intake/intake_core.h"

#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/time_util.h>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/fingerprint.h"
#include "common/logging.h"
#include "common/page_token.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/subscriber.h"
#include "services/intake/access.h"
#include "services/intake/requests.h"
#include "services/intake/sla.h"

namespace switchboard::intake {

using issue::v1::Issue;
using issue::v1::IssueEvent;

namespace {

// ABORTED unless `etag` is "" or `current`, the etag of `what`.
absl::Status CheckEtagOf(absl::string_view what, absl::string_view etag,
                         absl::string_view current) {
  if (etag.empty() || etag == current) return absl::OkStatus();
  return WithFieldViolation(
      absl::AbortedError(absl::StrCat("etag \"", etag, "\" is stale: ", what, " is at etag \"",
                                      current, "\"; read it again")),
      "etag", absl::StrCat("stale: ", what, " is at etag \"", current, "\""));
}

}  // namespace

absl::Status CheckEtag(absl::string_view etag, const Issue& current) {
  return CheckEtagOf("the issue", etag, current.etag());
}

absl::Status CheckEtag(absl::string_view etag, const issue::v1::Problem& current) {
  return CheckEtagOf("the problem", etag, current.etag());
}

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

absl::Status WrongState(absl::string_view action, const Issue& current, absl::string_view allowed) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", action, " ", current.name(), ": it is ",
                   issue::v1::State_Name(current.state()), "; only ", allowed, " issues can be"));
}

namespace {

constexpr int kScanBudget = 10000;

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
    case issue::v1::EVENT_TYPE_PROBLEM_LINKED:
      return "problem-linked";
    case issue::v1::EVENT_TYPE_WAITING_ON_CUSTOMER:
      return "waiting";
    case issue::v1::EVENT_TYPE_CUSTOMER_RESPONDED:
      return "responded";
    case issue::v1::EVENT_TYPE_RESUMED:
      return "resumed";
    case issue::v1::EVENT_TYPE_REOPENED:
      return "reopened";
    case issue::v1::EVENT_TYPE_RATED:
      return "rated";
    default:
      return "unspecified";
  }
}

}  // namespace

uint64_t RequestFingerprint(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream output(&stream);
    output.SetSerializationDeterministic(true);  // map order must not matter
    message.SerializeWithCachedSizes(&output);
  }
  return Fingerprint(bytes);
}

uint64_t RequestFingerprint(absl::string_view text) { return Fingerprint(text); }

uint64_t SubmissionFingerprint(const Issue& issue) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream output(&stream);
    output.SetSerializationDeterministic(true);  // map order must not matter
    InputFields(issue).SerializeWithCachedSizes(&output);
  }
  return Fingerprint(bytes);
}

IssueEvent MakeEvent(issue::v1::EventType type, const Issue& issue, absl::Time time) {
  IssueEvent event;  // recipients below follow issue.proto
  const absl::string_view id = IssueIdFromName(issue.name());
  // One event per issue version: stable across retries and restarts.
  event.set_id(absl::StrCat(id, "/", issue.etag(), "/", EventName(type)));
  event.set_type(type);
  *event.mutable_issue() = issue;
  *event.mutable_time() = ToProtoTime(time);
  auto add = [&event](const std::string& recipient) {
    for (const std::string& existing : event.recipients()) {
      if (existing == recipient) return;
    }
    event.add_recipients(recipient);
  };
  const auto& target = issue.assignment().target();
  switch (type) {
    case issue::v1::EVENT_TYPE_RECEIVED:
      add(SourceSubscriber(issue.source()));
      break;
    case issue::v1::EVENT_TYPE_ROUTED:
      add(TeamSubscriber(target.team()));
      add(BusinessGroupSubscriber(target.business_group()));
      for (const auto& watcher : issue.assignment().watchers()) add(TeamSubscriber(watcher.team()));
      break;
    default:
      if (!target.team().empty()) add(TeamSubscriber(target.team()));
      add(SourceSubscriber(issue.source()));
      if (!issue.submitter().empty()) add(SubmitterSubscriber(issue.submitter()));
  }
  return event;
}

IntakeCore::IntakeCore(IntakeStore& store, IntakeMetrics& metrics, RoutingPeer& routing,
                       Clock& clock, const std::string& last_id, const std::string& last_problem_id,
                       std::unique_ptr<OpenIssues> open_issues)
    : store_(store),
      issues_(store.issues()),
      commits_(store.commits()),
      metrics_(metrics),
      routing_(routing),
      clock_(clock),
      ids_(clock, last_id, store.partition()),
      problems_(store.problems()),
      problem_ids_(clock, last_problem_id, store.partition()),
      open_issues_(std::move(open_issues)) {}

absl::StatusOr<std::unique_ptr<IntakeCore>> IntakeCore::Create(IntakeStore& store,
                                                               IntakeMetrics& metrics,
                                                               RoutingPeer& routing, Clock& clock) {
  ASSIGN_OR_RETURN(const std::string last_id, store.issues().LastIssueId());
  ASSIGN_OR_RETURN(const std::string last_problem_id, store.problems().LastProblemId());
  return absl::WrapUnique(new IntakeCore(store, metrics, routing, clock, last_id, last_problem_id,
                                         OpenIssues::Load(store.issues())));
}

void IntakeCore::Submit(const v1::SubmitIssueRequest& request, const Caller& caller,
                        IssueDone done) {
  if (absl::Status invalid = ValidateSubmitIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  const std::string& request_id = request.request_id();
  const uint64_t fingerprint = SubmissionFingerprint(request.issue());

  // Replies that do not wait for a commit are made after the lock is released.
  IssueDone reply_now;
  absl::StatusOr<Issue> reply;
  {
    MutexLock lock(mu_);
    auto in_flight = in_flight_.find(request_id);
    absl::StatusOr<absl::optional<RequestRecord>> record;
    if (in_flight != in_flight_.end()) {
      if (in_flight->second.fingerprint == fingerprint) {
        in_flight->second.waiters.push_back(std::move(done));  // completes with the first
      } else {
        reply_now = std::move(done);
        reply = absl::AlreadyExistsError(
            absl::StrCat("request_id \"", request_id, "\" was already used for a different issue"));
      }
    } else if (record = issues_.FindRequest(request_id); !record.ok() || record->has_value()) {
      reply_now = std::move(done);
      if (!record.ok()) {
        reply = record.status();
      } else if ((*record)->fingerprint != fingerprint) {
        reply = absl::AlreadyExistsError(
            absl::StrCat("request_id \"", request_id, "\" was already used for a different issue"));
      } else {
        reply = issues_.Get((*record)->issue_id);  // the same issue, as it is now
      }
    } else {
      const absl::Time now = clock_.Now();
      Issue issue = InputFields(request.issue());
      issue.set_name(IssueName(ids_.Next()));
      issue.set_state(issue::v1::STATE_RECEIVED);
      *issue.mutable_create_time() = ToProtoTime(now);
      *issue.mutable_update_time() = ToProtoTime(now);
      issue.set_etag("1");
      IssueEvent received = MakeEvent(issue::v1::EVENT_TYPE_RECEIVED, issue, now);
      received.set_caller(CallerIdentity(caller));
      rocksdb::WriteBatch batch;
      issues_.AddNewIssue(issue, request_id, fingerprint, batch);
      store_.route_tasks().Append(IssueIdFromName(issue.name()), batch);
      store_.AppendEvent(received, batch);
      in_flight_[request_id] = InFlight{fingerprint, {}};
      in_flight_[request_id].waiters.push_back(std::move(done));
      // Queued under the lock: batches are stored in the order of their sequences.
      commits_.Commit(std::move(batch), [this, request_id, issue](const absl::Status& status) {
        FinishSubmit(request_id, status, issue);
      });
    }
  }
  if (reply_now) std::move(reply_now)(std::move(reply));
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
    open_issues_->Changed(nullptr, OpenIssues::Place::Of(issue));
    metrics_.CountSubmitted(issue.source(), issue::v1::Severity_Name(issue.severity()));
    store_.route_tasks().doorbell().Ring();
    store_.RingEvents();
  }
  for (IssueDone& waiter : waiters) {
    if (status.ok()) {
      std::move(waiter)(issue);
    } else {
      std::move(waiter)(status);
    }
  }
}

absl::StatusOr<Issue> IntakeCore::Get(const v1::GetIssueRequest& request,
                                      const Caller& caller) const {
  RETURN_IF_ERROR(ValidateGetIssueRequest(request));
  ASSIGN_OR_RETURN(Issue issue, issues_.Get(IssueIdFromName(request.name())));
  RETURN_IF_ERROR(MayRead(caller, issue));
  return issue;
}

absl::StatusOr<v1::ListIssuesResponse> IntakeCore::List(const v1::ListIssuesRequest& request,
                                                        const Caller& caller) const {
  std::string before;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(before, DecodePageToken(request.page_token(), "issues", request.filter()));
    if (!IsValidIssueId(before)) {
      return InvalidArgumentWithViolations("invalid page_token",
                                           {{"page_token", "not a page token"}});
    }
  }
  ASSIGN_OR_RETURN(PartitionPage page, ListBefore(request, before, caller));
  v1::ListIssuesResponse response;
  for (Issue& issue : page.issues) *response.add_issues() = std::move(issue);
  if (!page.resume.empty())
    response.set_next_page_token(EncodePageToken("issues", request.filter(), page.resume));
  return response;
}

absl::StatusOr<PartitionPage> IntakeCore::ListBefore(const v1::ListIssuesRequest& request,
                                                     absl::string_view before,
                                                     const Caller& caller) const {
  ASSIGN_OR_RETURN(const int page_size, PageSize(request.page_size(), 100, 1000));
  ASSIGN_OR_RETURN(const std::vector<FilterTerm> terms, ParseIssueFilter(request.filter()));
  if (!before.empty() && !IsValidIssueId(before)) {
    return InvalidArgumentWithViolations("invalid page_token",
                                         {{"page_token", "not a page token"}});
  }
  PartitionPage page;
  ASSIGN_OR_RETURN(
      page.issues,
      issues_.List(terms, before, page_size, std::max(kScanBudget, 10 * page_size), &page.resume,
                   [&caller](const Issue& issue) { return MaySee(caller, issue); }));
  return page;
}

absl::StatusOr<Issue> IntakeCore::Current(absl::string_view id) {
  MutexLock lock(mu_);
  return CurrentLocked(id);
}

absl::StatusOr<Issue> IntakeCore::CurrentLocked(absl::string_view id) {
  auto pending = pending_.find(id);
  if (pending != pending_.end()) return pending->second;
  return issues_.Get(id);
}

absl::StatusOr<IntakeCore::Prepared> IntakeCore::PrepareLocked(const std::string& id,
                                                               ChangeFn change,
                                                               rocksdb::WriteBatch& batch) {
  ASSIGN_OR_RETURN(Issue current, CurrentLocked(id));
  ASSIGN_OR_RETURN(IssueChange result, change(current));
  if (!result.write) return Prepared{.updated = std::move(current)};
  const absl::Time now = clock_.Now();
  Prepared prepared{.updated = std::move(result.updated),
                    .event = result.event,
                    .wrote = true,
                    .before = OpenIssues::Place::Of(current),
                    .sla_before = current.sla()};
  Issue& updated = prepared.updated;
  int64_t version = 0;
  if (!absl::SimpleAtoi(current.etag(), &version)) version = 0;
  updated.set_etag(absl::StrCat(version + 1));
  *updated.mutable_update_time() = ToProtoTime(now);
  issues_.PutIssue(updated, batch);
  issues_.UpdateIndex(current, updated, batch);
  issues_.UpdateTimer(current, updated, batch);
  prepared.timer_changed = TimerKey(current) != TimerKey(updated);
  if (result.event != issue::v1::EVENT_TYPE_UNSPECIFIED) {
    IssueEvent record = MakeEvent(result.event, updated, now);
    record.set_actor(result.actor);
    record.set_caller(result.caller);
    record.set_reason(result.reason);
    if (result.problem != nullptr) *record.mutable_problem() = *result.problem;
    if (!result.previous_owner.empty() &&
        result.previous_owner != updated.assignment().target().team()) {
      record.add_recipients(TeamSubscriber(result.previous_owner));
    }
    store_.AppendEvent(record, batch);
  }
  for (auto& [partition, message] : result.mail) SendLocked(partition, std::move(message), batch);
  prepared.mailed = !result.mail.empty();
  if (auto queued = pending_.find(id); queued != pending_.end()) {
    prepared.replaced_pending = queued->second;
  }
  pending_[id] = updated;
  return prepared;
}

void IntakeCore::Finish(const Prepared& prepared, const absl::Status& status) {
  if (!prepared.wrote) return;
  {
    MutexLock lock(mu_);
    auto pending = pending_.find(IssueIdFromName(prepared.updated.name()));
    if (pending != pending_.end() && pending->second.etag() == prepared.updated.etag())
      pending_.erase(pending);
  }
  if (!status.ok()) return;
  const Issue& issue = prepared.updated;
  open_issues_->Changed(&prepared.before, OpenIssues::Place::Of(issue));
  const std::string& group = issue.assignment().target().business_group();
  const absl::Duration age =
      FromProtoTime(issue.update_time()) - FromProtoTime(issue.create_time());
  switch (prepared.event) {
    case issue::v1::EVENT_TYPE_ROUTED:
      metrics_.Count(metrics_.routed, group);
      metrics_.Observe(metrics_.time_to_route, group, age);
      break;
    case issue::v1::EVENT_TYPE_ACKNOWLEDGED:
      metrics_.Observe(metrics_.time_to_acknowledge, group, age);
      break;
    case issue::v1::EVENT_TYPE_RESOLVED:
      metrics_.Observe(metrics_.time_to_resolve, group, age);
      break;
    case issue::v1::EVENT_TYPE_ESCALATED:
      metrics_.Count(metrics_.escalations, group);
      break;
    case issue::v1::EVENT_TYPE_REOPENED:
      metrics_.Count(metrics_.reopened, group);
      break;
    default:
      break;
  }
  CountSla(prepared);
  if (prepared.event != issue::v1::EVENT_TYPE_UNSPECIFIED) store_.RingEvents();
  if (prepared.timer_changed) store_.timers_changed().Ring();
  if (prepared.mailed) store_.RingMail();
}

void IntakeCore::CountSla(const Prepared& prepared) {
  const Issue& issue = prepared.updated;
  const issue::v1::SlaStatus& before = prepared.sla_before;
  const issue::v1::SlaStatus& after = issue.sla();
  const std::string& group = issue.assignment().target().business_group();
  auto outcome = [&](absl::string_view target, issue::v1::SlaOutcome was,
                     issue::v1::SlaOutcome now) {
    if (now == was || now == issue::v1::SLA_OUTCOME_UNSPECIFIED) return;
    metrics_.CountSlaOutcome(group, target, now == issue::v1::SLA_OUTCOME_MET ? "met" : "breached");
  };
  outcome("ack", before.ack_outcome(), after.ack_outcome());
  outcome("resolve", before.resolve_outcome(), after.resolve_outcome());
  const absl::Duration paused =
      FromProtoDuration(after.paused_duration()) - FromProtoDuration(before.paused_duration());
  // A pause that ended counts even when it held no SLA time (outside a
  // business clock's hours), so the series exists once pauses happen.
  if (paused > absl::ZeroDuration() || (before.has_pause_start() && !after.has_pause_start())) {
    metrics_.sla_paused_seconds.Add({{"business_group", metrics_.business_groups(group)}})
        .Increment(absl::ToDoubleSeconds(paused));
  }
  if (prepared.event == issue::v1::EVENT_TYPE_RATED) {
    // A replaced rating is taken back from the owner it was counted for.
    if (before.rating() != 0) {
      const issue::v1::Target& rated =
          before.has_rated_owner() ? before.rated_owner() : issue.assignment().target();
      metrics_.CountRating(rated.business_group(), rated.team(), before.rating(),
                           /*replaced=*/true);
    }
    metrics_.CountRating(group, issue.assignment().target().team(), after.rating(),
                         /*replaced=*/false);
  }
}

namespace {

// The answer of an issue call from its kept record.
RecordDone AnswerIssue(IntakeCore::IssueDone done) {
  return [done = std::move(done)](absl::StatusOr<v1::ChangeRecord> record) mutable {
    if (record.ok()) {
      std::move(done)(std::move(*record->mutable_outcome()));
    } else {
      std::move(done)(record.status());
    }
  };
}

}  // namespace

RecordDone AnswerProblem(IntakeCore::ProblemDone done) {
  return [done = std::move(done)](absl::StatusOr<v1::ChangeRecord> record) mutable {
    if (record.ok()) {
      std::move(done)(std::move(*record->mutable_problem()));
    } else {
      std::move(done)(record.status());
    }
  };
}

std::string ProblemRecordId(absl::string_view problem_id) {
  return absl::StrCat("problems/", problem_id);
}

void IntakeCore::Update(absl::string_view id_view, ChangeFn change, IssueDone done,
                        const ChangeKey& key) {
  const std::string id(id_view);
  absl::AnyInvocable<void() &&> reply;  // an answer that needs no commit, made unlocked
  {
    MutexLock lock(mu_);
    // Looked up under the same lock as the change: of two calls with one
    // request_id, the second finds the first's record.
    absl::optional<Replayed> replayed = FindReplayLocked(id, IssueName(id), key);
    if (replayed.has_value()) {
      RecordDone replay = AnswerIssue(std::move(done));
      if (AnswerQueuedLocked(id, key, *replayed, replay)) return;
      reply = [replay = std::move(replay), record = std::move(replayed->record)]() mutable {
        std::move(replay)(std::move(record));
      };
    } else {
      rocksdb::WriteBatch batch;
      absl::StatusOr<Prepared> prepared = PrepareLocked(id, change, batch);
      if (!prepared.ok()) {
        reply = [done = std::move(done), status = prepared.status()]() mutable {
          std::move(done)(status);
        };
      } else {
        uint64_t tag = 0;
        if (!key.request_id.empty()) {
          v1::ChangeRecord record;
          *record.mutable_outcome() = prepared->updated;
          tag = ++last_batch_;
          KeepRecordLocked(id, key, std::move(record), tag, batch);
        }
        // Queued under the lock: an issue's versions are stored in order.
        commits_.Commit(std::move(batch), [this, tag, prepared = *std::move(prepared),
                                           done = std::move(done)](absl::Status status) mutable {
          if (tag != 0) {
            MutexLock forget(mu_);
            pending_changes_.Forget(tag);
          }
          Finish(prepared, status);
          if (status.ok()) {
            std::move(done)(std::move(prepared.updated));
          } else {
            std::move(done)(std::move(status));
          }
        });
        return;
      }
    }
  }
  std::move(reply)();
}

void IntakeCore::KeepRecordLocked(const std::string& record_id, const ChangeKey& key,
                                  v1::ChangeRecord record, uint64_t tag,
                                  rocksdb::WriteBatch& batch) {
  record.set_method(key.method);
  record.set_fingerprint(key.fingerprint);
  issues_.PutChange(record_id, key.request_id, record, batch);
  pending_changes_.Put(absl::StrCat(record_id, key.request_id), std::move(record), tag);
}

bool IntakeCore::Replay(const std::string& id, const ChangeKey& key, IssueDone& done) {
  if (key.request_id.empty()) return false;
  // `done` is taken only if there is a record to answer with.
  return ReplayRecord(id, IssueName(id), key, [&done] { return AnswerIssue(std::move(done)); });
}

bool IntakeCore::ReplayProblem(const std::string& id, const ChangeKey& key, ProblemDone& done) {
  if (key.request_id.empty()) return false;
  return ReplayRecord(ProblemRecordId(id), ProblemName(id), key,
                      [&done] { return AnswerProblem(std::move(done)); });
}

bool IntakeCore::ReplayRecord(const std::string& record_id, absl::string_view name,
                              const ChangeKey& key, absl::FunctionRef<RecordDone()> answerer) {
  absl::optional<Replayed> replayed;
  RecordDone answer;
  {
    MutexLock lock(mu_);
    replayed = FindReplayLocked(record_id, name, key);
    if (!replayed.has_value()) return false;
    answer = answerer();
    if (AnswerQueuedLocked(record_id, key, *replayed, answer)) return true;
  }
  std::move(answer)(std::move(replayed->record));
  return true;
}

absl::optional<IntakeCore::Replayed> IntakeCore::FindReplayLocked(const std::string& record_id,
                                                                  absl::string_view name,
                                                                  const ChangeKey& key) {
  if (key.request_id.empty()) return absl::nullopt;
  absl::StatusOr<absl::optional<v1::ChangeRecord>> record;
  Replayed replayed;
  if (const v1::ChangeRecord* pending =
          pending_changes_.Find(absl::StrCat(record_id, key.request_id))) {
    record = *pending;
    replayed.queued = true;
  } else {
    record = issues_.FindChange(record_id, key.request_id);
  }
  if (!record.ok()) {
    replayed.record = record.status();
  } else if (!record->has_value()) {
    return absl::nullopt;
  } else if ((*record)->method() != key.method || (*record)->fingerprint() != key.fingerprint) {
    const std::string used =
        (*record)->method() == key.method ? "another request" : (*record)->method();
    replayed.record = WithFieldViolation(
        absl::AlreadyExistsError(absl::StrCat("request_id \"", key.request_id, "\" was used for ",
                                              used, " on ", name, "; use a new one")),
        "request_id", absl::StrCat("already used for ", used));
  } else {
    replayed.record = std::move(**record);
  }
  return replayed;
}

bool IntakeCore::AnswerQueuedLocked(const std::string& record_id, const ChangeKey& key,
                                    Replayed& replayed, RecordDone& answer) {
  if (!replayed.queued || !replayed.record.ok()) return false;
  // The first call's batch is not durable yet: answer once it is (the queue
  // writes batches in order, so after this empty one), and only if it was
  // written: a group that fails is rewritten batch by batch, so this one
  // may succeed where the first failed.
  commits_.Commit(
      rocksdb::WriteBatch(), [this, record_id, key, record = std::move(replayed.record),
                              answer = std::move(answer)](const absl::Status& status) mutable {
        absl::StatusOr<absl::optional<v1::ChangeRecord>> kept =
            status.ok() ? issues_.FindChange(record_id, key.request_id) : status;
        if (!kept.ok()) {
          std::move(answer)(kept.status());
        } else if (!kept->has_value()) {
          std::move(answer)(absl::AbortedError(absl::StrCat(
              "the first call with request_id \"", key.request_id, "\" failed; retry it")));
        } else {
          std::move(answer)(std::move(record));
        }
      });
  return true;
}

void IntakeCore::Acknowledge(const v1::AcknowledgeIssueRequest& request, const Caller& caller,
                             IssueDone done) {
  if (absl::Status invalid = ValidateAcknowledgeIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  const absl::string_view id = IssueIdFromName(request.name());
  Update(
      id,
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        RETURN_IF_ERROR(MayChange(caller, current, "acknowledge"));
        if (current.state() == issue::v1::STATE_ACKNOWLEDGED) return IssueChange{.write = false};
        if (current.state() != issue::v1::STATE_ROUTED)
          return WrongState("acknowledge", current, "ROUTED");
        RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        IssueChange change{.updated = current,
                           .event = issue::v1::EVENT_TYPE_ACKNOWLEDGED,
                           .actor = request.actor(),
                           .caller = CallerIdentity(caller)};
        MarkAcknowledged(clock_.Now(), change.updated);
        return change;
      },
      std::move(done), ChangeKeyOf("AcknowledgeIssue", request, caller));
}

void IntakeCore::Resolve(const v1::ResolveIssueRequest& request, const Caller& caller,
                         IssueDone done) {
  if (absl::Status invalid = ValidateResolveIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  const absl::string_view id = IssueIdFromName(request.name());
  Update(
      id,
      [&](const Issue& current) -> absl::StatusOr<IssueChange> {
        RETURN_IF_ERROR(MayChange(caller, current, "resolve"));
        if (!IsActive(current.state())) {
          return WrongState("resolve", current, "ROUTED, ACKNOWLEDGED or WAITING_ON_CUSTOMER");
        }
        RETURN_IF_ERROR(CheckEtag(request.etag(), current));
        IssueChange change{.updated = current,
                           .event = issue::v1::EVENT_TYPE_RESOLVED,
                           .actor = request.actor(),
                           .caller = CallerIdentity(caller)};
        MarkResolved(clock_.Now(), request.resolution(), change.updated);
        return change;
      },
      std::move(done), ChangeKeyOf("ResolveIssue", request, caller));
}

void IntakeCore::Transfer(const v1::TransferIssueRequest& request, const Caller& caller,
                          IssueDone done) {
  if (absl::Status invalid = ValidateTransferIssueRequest(request); !invalid.ok()) {
    std::move(done)(invalid);
    return;
  }
  const absl::string_view id = IssueIdFromName(request.name());
  const ChangeKey key = ChangeKeyOf("TransferIssue", request, caller);
  if (Replay(std::string(id), key, done)) return;
  absl::StatusOr<Issue> current = Current(id);
  if (!current.ok()) {
    std::move(done)(current.status());
    return;
  }
  if (absl::Status denied = MayChange(caller, *current, "transfer"); !denied.ok()) {
    std::move(done)(denied);
    return;
  }
  if (current->state() != issue::v1::STATE_ROUTED &&
      current->state() != issue::v1::STATE_ACKNOWLEDGED) {
    std::move(done)(WrongState("transfer", *current, "ROUTED or ACKNOWLEDGED"));
    return;
  }
  routing::v1::RouteToTargetRequest check;
  *check.mutable_issue() = InputFields(*current);
  *check.mutable_target() = request.target();
  routing_.RouteToTarget(
      check, [this, id = std::string(id), request, key, &caller, done = std::move(done)](
                 absl::StatusOr<routing::v1::RoutingDecision> decision) mutable {
        if (!decision.ok()) {
          std::move(done)(decision.status());
          return;
        }
        Update(
            id,
            [&](const Issue& latest) -> absl::StatusOr<IssueChange> {
              // The owner may have changed while routing answered.
              RETURN_IF_ERROR(MayChange(caller, latest, "transfer"));
              if (latest.state() != issue::v1::STATE_ROUTED &&
                  latest.state() != issue::v1::STATE_ACKNOWLEDGED) {
                return WrongState("transfer", latest, "ROUTED or ACKNOWLEDGED");
              }
              RETURN_IF_ERROR(CheckEtag(request.etag(), latest));
              const absl::Time now = clock_.Now();
              IssueChange change{.updated = latest,
                                 .event = issue::v1::EVENT_TYPE_TRANSFERRED,
                                 .actor = request.actor(),
                                 .caller = CallerIdentity(caller),
                                 .reason = request.reason(),
                                 .previous_owner = latest.assignment().target().team()};
              Issue& issue = change.updated;
              issue.set_state(issue::v1::STATE_ROUTED);  // the new owner acknowledges anew
              issue::v1::Assignment& assignment = *issue.mutable_assignment();
              assignment.Clear();
              *assignment.mutable_target() = decision->target();
              *assignment.mutable_original_target() = decision->target();
              assignment.set_ruleset_revision(decision->ruleset_revision());
              assignment.set_manual(true);
              *assignment.mutable_assign_time() = ToProtoTime(now);
              StartSla(*decision, now, /*resolve=*/false, issue);
              return change;
            },
            std::move(done), key);
      });
}

absl::Status IntakeCore::RecordRoutings(const std::vector<Routed>& routed) {
  std::vector<Prepared> prepared;
  bool mailed = false;
  CommitWaiter waiter;
  {
    MutexLock lock(mu_);
    rocksdb::WriteBatch batch;
    for (const Routed& outcome : routed) {
      store_.route_tasks().Remove(outcome.task, batch);
      if (!outcome.decision.has_value()) continue;
      const routing::v1::RoutingDecision& decision = *outcome.decision;
      absl::StatusOr<Prepared> version = PrepareLocked(
          outcome.task.value,
          [&](const Issue& current) -> absl::StatusOr<IssueChange> {
            if (current.state() != issue::v1::STATE_RECEIVED) return IssueChange{.write = false};
            const absl::Time now = clock_.Now();
            IssueChange change{.updated = current, .event = issue::v1::EVENT_TYPE_ROUTED};
            Issue& issue = change.updated;
            issue.set_state(issue::v1::STATE_ROUTED);
            issue::v1::Assignment& assignment = *issue.mutable_assignment();
            *assignment.mutable_target() = decision.target();
            assignment.set_rule(decision.rule());
            assignment.set_ruleset_revision(decision.ruleset_revision());
            *assignment.mutable_watchers() = decision.watchers();
            assignment.set_escalation_level(0);
            *assignment.mutable_assign_time() = ToProtoTime(now);
            *assignment.mutable_original_target() =
                decision.has_original_target() ? decision.original_target() : decision.target();
            StartSla(decision, now, /*resolve=*/true, issue);
            return change;
          },
          batch);
      if (version.ok()) {
        if (version->wrote) mailed |= CorrelateLocked(version->updated, decision, batch);
        prepared.push_back(*std::move(version));
      } else {
        // The issue went missing since the loop read it: the task goes.
        log::Error("dropping a route task whose issue cannot be updated",
                   {{"issue", outcome.task.value}, {"status", version.status()}});
      }
    }
    commits_.Commit(std::move(batch), waiter.Expect());
  }
  const absl::Status status = waiter.Wait();
  for (const Prepared& version : prepared) Finish(version, status);
  if (status.ok() && mailed) store_.RingMail();
  return status;
}

absl::Status IntakeCore::RemovePublished(Outbox& outbox, const std::vector<Outbox::Item>& events) {
  rocksdb::WriteBatch batch;
  for (const Outbox::Item& event : events) outbox.Remove(event, batch);
  return commits_.CommitAndWait(std::move(batch));
}

absl::StatusOr<absl::optional<SlaTimer>> IntakeCore::NextTimer() { return issues_.FirstTimer(); }

absl::Status IntakeCore::RecordEscalation(const SlaTimer& timer,
                                          const routing::v1::RoutingDecision* decision) {
  absl::optional<Prepared> prepared;
  CommitWaiter waiter;
  {
    MutexLock lock(mu_);
    rocksdb::WriteBatch batch;
    issues_.DeleteTimer(timer.key, batch);
    absl::StatusOr<Prepared> version = PrepareLocked(
        timer.issue_id,
        [&](const Issue& current) -> absl::StatusOr<IssueChange> {
          if (TimerKey(current) != timer.key) return IssueChange{.write = false};  // moved on
          const std::string& group = current.assignment().target().business_group();
          metrics_.Count(metrics_.sla_breaches, group);
          if (decision == nullptr) {
            metrics_.Count(metrics_.escalations_exhausted, group);
            // The owner stays and the breach is kept. The deadline goes
            // with its timer: one that stayed would arm the timer again
            // whenever the issue came back to ROUTED (after a wait).
            IssueChange change{.updated = current};
            MarkAckBreached(change.updated);
            change.updated.clear_ack_deadline();
            return change;
          }
          const absl::Time now = clock_.Now();
          IssueChange change{
              .updated = current,
              .event = issue::v1::EVENT_TYPE_ESCALATED,
              .reason = absl::StrCat("not acknowledged by the ack deadline; escalation level ",
                                     decision->escalation_level()),
              .previous_owner = current.assignment().target().team()};
          Issue& issue = change.updated;
          issue::v1::Assignment& assignment = *issue.mutable_assignment();
          *assignment.mutable_target() = decision->target();
          assignment.set_escalation_level(decision->escalation_level());
          *assignment.mutable_original_target() = decision->original_target();
          *assignment.mutable_assign_time() = ToProtoTime(now);
          MarkAckBreached(issue);
          StartSla(*decision, now, /*resolve=*/false, issue);
          return change;
        },
        batch);
    if (version.ok()) {
      prepared = *std::move(version);
    } else {
      log::Error("dropping a timer whose issue cannot be read",
                 {{"issue", timer.issue_id}, {"status", version.status()}});
    }
    commits_.Commit(std::move(batch), waiter.Expect());
  }
  const absl::Status status = waiter.Wait();
  if (prepared.has_value()) Finish(*prepared, status);
  return status;
}

}  // namespace switchboard::intake
