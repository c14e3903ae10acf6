#include "services/intake/intake_service.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/handler.h"
#include "common/page_token.h"
#include "common/partition.h"
#include "common/sync.h"
#include "services/intake/access.h"
#include "services/intake/issue_id.h"
#include "services/intake/merged_list.h"
#include "services/intake/problems.h"
#include "services/intake/requests.h"

namespace switchboard::intake {
namespace {

constexpr char kSubmitIssue[] = "/switchboard.intake.v1.IntakeService/SubmitIssue";
constexpr char kGetIssue[] = "/switchboard.intake.v1.IntakeService/GetIssue";
constexpr char kListIssues[] = "/switchboard.intake.v1.IntakeService/ListIssues";
constexpr char kAcknowledgeIssue[] = "/switchboard.intake.v1.IntakeService/AcknowledgeIssue";
constexpr char kResolveIssue[] = "/switchboard.intake.v1.IntakeService/ResolveIssue";
constexpr char kTransferIssue[] = "/switchboard.intake.v1.IntakeService/TransferIssue";
constexpr char kGetProblem[] = "/switchboard.intake.v1.IntakeService/GetProblem";
constexpr char kListProblems[] = "/switchboard.intake.v1.IntakeService/ListProblems";
constexpr char kAcknowledgeProblem[] = "/switchboard.intake.v1.IntakeService/AcknowledgeProblem";
constexpr char kResolveProblem[] = "/switchboard.intake.v1.IntakeService/ResolveProblem";
constexpr char kTransferProblem[] = "/switchboard.intake.v1.IntakeService/TransferProblem";
constexpr char kLinkIssue[] = "/switchboard.intake.v1.IntakeService/LinkIssue";
constexpr char kUnlinkIssue[] = "/switchboard.intake.v1.IntakeService/UnlinkIssue";
constexpr char kWaitOnCustomer[] = "/switchboard.intake.v1.IntakeService/WaitOnCustomer";
constexpr char kRespondToIssue[] = "/switchboard.intake.v1.IntakeService/RespondToIssue";
constexpr char kResumeIssue[] = "/switchboard.intake.v1.IntakeService/ResumeIssue";
constexpr char kReopenIssue[] = "/switchboard.intake.v1.IntakeService/ReopenIssue";
constexpr char kRateIssue[] = "/switchboard.intake.v1.IntakeService/RateIssue";

// On a ListIssues between partitions: "list your own issues older than this
// id" ("-" for the newest). The answer's next_page_token is then the plain
// id where the partition stopped.
constexpr char kPartitionListMetadata[] = "switchboard-partition-list";

// Fills `actor` with the caller's identity when the request names nobody
// and the caller is authenticated, so that tools need not repeat it.
template <typename Request>
void DefaultActor(const Caller& caller, Request& request) {
  if (request.actor().empty() && !caller.local()) request.set_actor(caller.name());
}

// The partition of an issue's call: the one its name says.
struct ByIssueName {
  int count;
  template <typename Request>
  int operator()(const Request& request) const {
    return IssuePartitionOf(request.name(), count);
  }
};

// The partition of a problem's call: the one its id names (problem ids carry
// the partition that made them, as issue ids do).
struct ByProblemName {
  int count;
  template <typename Request>
  int operator()(const Request& request) const {
    return ProblemPartitionOf(request.name(), count);
  }
};

int Partitions(const PartitionPeers* peers) { return peers == nullptr ? 1 : peers->count(); }

// A merged list's page token: "m{partition}." and the token that partition
// made, so that whichever partition a next page reaches passes it to the
// one that can read it.
std::string MergedToken(int partition, absl::string_view filter, const MergedPosition& next) {
  return absl::StrCat("m", partition, ".",
                      EncodePageToken("issues", filter, EncodeMergedPosition(next)));
}

absl::Status NotAPageToken() {
  return InvalidArgumentWithViolations("invalid page_token", {{"page_token", "not a page token"}});
}

// A page token of a list that spans partitions is "m{minter}." and the
// token partition `minter` made; only the minter can check it. Returns the
// minter's token when this partition made it. Otherwise the call is finished
// here: passed on to the minter, or refused (a token that is not one, or one
// forwarded here by mistake), and nullopt is returned.
std::optional<absl::string_view> OwnPageToken(absl::string_view token, const char* method,
                                              PartitionPeers& peers,
                                              grpc::CallbackServerContext* context,
                                              const Caller& caller,
                                              const grpc::ByteBuffer& request_bytes,
                                              const UnaryResponder& responder) {
  const size_t dot = token.find('.');
  int minter = -1;
  if (token.front() != 'm' || dot == absl::string_view::npos ||
      !absl::SimpleAtoi(token.substr(1, dot - 1), &minter) || minter < 0 ||
      minter >= peers.count()) {
    responder.Finish(NotAPageToken());
    return std::nullopt;
  }
  if (minter == peers.self()) return token.substr(dot + 1);
  if (WasForwarded(*context)) {
    responder.FinishRelayed(peers.NotOwned(minter), {});
  } else {
    peers.Call(minter, method, context, caller, request_bytes,
               [responder](const grpc::Status& status, const grpc::ByteBuffer& response) {
                 responder.FinishRelayed(status, response);
               });
  }
  return std::nullopt;
}

}  // namespace

grpc::ServerUnaryReactor* IntakeService::SubmitIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  // Retries carry the same request_id, so they reach the same partition.
  const int partitions = Partitions(options_.peers);
  return ServeLaterAt<issue::v1::Issue, v1::SubmitIssueRequest>(
      *options_.gate, At(kSubmitIssue),
      [partitions](const v1::SubmitIssueRequest& parsed) {
        return parsed.request_id().empty() ? -1 : PartitionOf(parsed.request_id(), partitions);
      },
      context, request, response,
      [](const Caller& caller, v1::SubmitIssueRequest& parsed) {
        return MaySubmit(caller, *parsed.mutable_issue());
      },
      [this](const Caller& caller, const v1::SubmitIssueRequest& parsed,
             IntakeCore::IssueDone done) {
        if (options_.noop_submit) return std::move(done)(parsed.issue());
        core_.Submit(parsed, caller, std::move(done));
      });
}

grpc::ServerUnaryReactor* IntakeService::GetIssue(grpc::CallbackServerContext* context,
                                                  const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) {
  return ServeNowAt<v1::GetIssueRequest>(
      *options_.gate, At(kGetIssue), ByIssueName{Partitions(options_.peers)}, context, request,
      response, Anyone<v1::GetIssueRequest>,
      [this](const Caller& caller, const v1::GetIssueRequest& parsed) {
        return core_.Get(parsed, caller);
      });
}

grpc::ServerUnaryReactor* IntakeService::ListIssues(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListIssuesRequest>(
      *options_.gate, context, request, response,
      [&](const Caller& caller, const v1::ListIssuesRequest& parsed, UnaryResponder responder) {
        if (absl::Status denied = MayList(caller); !denied.ok()) return responder.Finish(denied);
        if (options_.peers == nullptr) return responder.Finish(core_.List(parsed, caller));
        if (std::optional<std::string> before = MetadataValue(*context, kPartitionListMetadata)) {
          // One partition's part of another partition's merged list.
          absl::StatusOr<PartitionPage> page =
              core_.ListBefore(parsed, *before == "-" ? "" : *before, caller);
          if (!page.ok()) return responder.Finish(page.status());
          v1::ListIssuesResponse part;
          for (issue::v1::Issue& issue : page->issues) *part.add_issues() = std::move(issue);
          part.set_next_page_token(page->resume);
          return responder.Finish(part);
        }
        ListMerged(context, request, caller, parsed, responder);
      });
}

void IntakeService::ListMerged(grpc::CallbackServerContext* context,
                               const grpc::ByteBuffer* request_bytes, const Caller& caller,
                               const v1::ListIssuesRequest& request, UnaryResponder responder) {
  PartitionPeers& peers = *options_.peers;
  const int partitions = peers.count();
  MergedPosition from{.before = "", .done = std::vector<bool>(partitions, false)};
  if (!request.page_token().empty()) {
    std::optional<absl::string_view> own = OwnPageToken(request.page_token(), kListIssues, peers,
                                                        context, caller, *request_bytes, responder);
    if (!own.has_value()) return;
    absl::StatusOr<std::string> position = DecodePageToken(*own, "issues", request.filter());
    if (!position.ok()) return responder.Finish(position.status());
    absl::StatusOr<MergedPosition> decoded = DecodeMergedPosition(*position, partitions);
    if (!decoded.ok()) return responder.Finish(decoded.status());
    from = *std::move(decoded);
  }
  absl::StatusOr<int> page_size = PageSize(request.page_size(), 100, 1000);
  if (!page_size.ok()) return responder.Finish(page_size.status());

  // This partition's part first: it also checks the filter.
  struct Gathered {
    Mutex mu;
    std::vector<std::optional<PartitionPage>> pages ABSL_GUARDED_BY(mu);
    grpc::Status error ABSL_GUARDED_BY(mu);
    int waiting ABSL_GUARDED_BY(mu) = 0;
  };
  auto gathered = std::make_shared<Gathered>();
  {
    MutexLock lock(gathered->mu);
    gathered->pages.resize(partitions);
    if (!from.done[peers.self()]) {
      absl::StatusOr<PartitionPage> own = core_.ListBefore(request, from.before, caller);
      if (!own.ok()) return responder.Finish(own.status());
      gathered->pages[peers.self()] = *std::move(own);
    }
    for (int partition = 0; partition < partitions; ++partition) {
      if (partition != peers.self() && !from.done[partition]) ++gathered->waiting;
    }
  }
  auto complete = [gathered, responder, from, filter = request.filter(), size = *page_size,
                   self = peers.self()] {
    std::vector<std::optional<PartitionPage>> pages;
    {
      MutexLock lock(gathered->mu);
      if (!gathered->error.ok()) return responder.FinishRelayed(gathered->error, {});
      pages = std::move(gathered->pages);
    }
    MergedPage merged = MergePages(std::move(pages), size, from);
    v1::ListIssuesResponse response;
    for (issue::v1::Issue& issue : merged.issues) *response.add_issues() = std::move(issue);
    if (merged.next.has_value())
      response.set_next_page_token(MergedToken(self, filter, *merged.next));
    responder.Finish(response);
  };
  v1::ListIssuesRequest part = request;
  part.clear_page_token();
  const grpc::ByteBuffer part_bytes = ToByteBuffer(part);
  bool none_waiting;
  {
    MutexLock lock(gathered->mu);
    none_waiting = gathered->waiting == 0;
  }
  if (none_waiting) return complete();
  for (int partition = 0; partition < partitions; ++partition) {
    if (partition == peers.self() || from.done[partition]) continue;
    peers.Call(
        partition, kListIssues, context, caller, part_bytes,
        [gathered, complete, partition](const grpc::Status& status, const grpc::ByteBuffer& bytes) {
          bool last;
          {
            MutexLock lock(gathered->mu);
            v1::ListIssuesResponse answer;
            if (!status.ok()) {
              if (gathered->error.ok()) gathered->error = status;
            } else if (absl::Status parsed = ParseMessage(bytes, &answer); !parsed.ok()) {
              if (gathered->error.ok()) gathered->error = ToGrpcStatus(parsed);
            } else {
              PartitionPage page;
              page.issues.assign(std::make_move_iterator(answer.mutable_issues()->begin()),
                                 std::make_move_iterator(answer.mutable_issues()->end()));
              page.resume = answer.next_page_token();
              gathered->pages[partition] = std::move(page);
            }
            last = --gathered->waiting == 0;
          }
          if (last) complete();
        },
        {{kPartitionListMetadata, from.before.empty() ? "-" : from.before}});
  }
}

grpc::ServerUnaryReactor* IntakeService::AcknowledgeIssue(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::AcknowledgeIssueRequest>(
      *options_.gate, At(kAcknowledgeIssue), ByIssueName{Partitions(options_.peers)}, context,
      request, response,
      [](const Caller& caller, v1::AcknowledgeIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "acknowledge");
      },
      [this](const Caller& caller, const v1::AcknowledgeIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Acknowledge(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::ResolveIssue(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::ResolveIssueRequest>(
      *options_.gate, At(kResolveIssue), ByIssueName{Partitions(options_.peers)}, context, request,
      response,
      [](const Caller& caller, v1::ResolveIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "resolve");
      },
      [this](const Caller& caller, const v1::ResolveIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Resolve(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::TransferIssue(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::TransferIssueRequest>(
      *options_.gate, At(kTransferIssue), ByIssueName{Partitions(options_.peers)}, context, request,
      response,
      [](const Caller& caller, v1::TransferIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "transfer");
      },
      [this](const Caller& caller, const v1::TransferIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Transfer(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::GetProblem(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return ServeNowAt<v1::GetProblemRequest>(
      *options_.gate, At(kGetProblem), ByProblemName{Partitions(options_.peers)}, context, request,
      response, Anyone<v1::GetProblemRequest>,
      [this](const Caller& caller, const v1::GetProblemRequest& parsed) {
        return core_.GetProblem(parsed, caller);
      });
}

grpc::ServerUnaryReactor* IntakeService::ListProblems(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListProblemsRequest>(
      *options_.gate, context, request, response,
      [&](const Caller& caller, const v1::ListProblemsRequest& parsed, UnaryResponder responder) {
        if (absl::Status denied = MayList(caller); !denied.ok()) return responder.Finish(denied);
        if (options_.peers == nullptr) return responder.Finish(core_.ListProblems(parsed, caller));
        if (std::optional<std::string> before = MetadataValue(*context, kPartitionListMetadata)) {
          // One partition's page, asked for by the partition walking the list.
          absl::StatusOr<ProblemPage> page =
              core_.ListProblemsBefore(parsed, *before == "-" ? "" : *before, caller);
          if (!page.ok()) return responder.Finish(page.status());
          v1::ListProblemsResponse part;
          for (issue::v1::Problem& problem : page->problems) {
            *part.add_problems() = std::move(problem);
          }
          part.set_next_page_token(page->resume);
          return responder.Finish(part);
        }
        ListProblemsWalk(context, request, caller, parsed, responder);
      });
}

void IntakeService::ListProblemsWalk(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request_bytes, const Caller& caller,
                                     const v1::ListProblemsRequest& request,
                                     UnaryResponder responder) {
  // A token is "m{minter}." and, signed by the minter, "{partition}.{before}":
  // the partition being read and where in it the next page starts.
  PartitionPeers& peers = *options_.peers;
  const int partitions = peers.count();
  int partition = 0;
  std::string before;
  if (!request.page_token().empty()) {
    std::optional<absl::string_view> own = OwnPageToken(request.page_token(), kListProblems, peers,
                                                        context, caller, *request_bytes, responder);
    if (!own.has_value()) return;
    absl::StatusOr<std::string> position = DecodePageToken(*own, "problems", request.filter());
    if (!position.ok()) return responder.Finish(position.status());
    const size_t split = position->find('.');
    if (split == std::string::npos ||
        !absl::SimpleAtoi(absl::string_view(*position).substr(0, split), &partition) ||
        partition < 0 || partition >= partitions) {
      return responder.Finish(NotAPageToken());
    }
    before = position->substr(split + 1);
  }
  // The page, and the token of the one after it, minted here.
  auto finish = [responder, partition, partitions, self = peers.self(),
                 filter = request.filter()](ProblemPage page) {
    v1::ListProblemsResponse response;
    for (issue::v1::Problem& problem : page.problems) *response.add_problems() = std::move(problem);
    std::string next;
    if (!page.resume.empty()) {
      next = absl::StrCat(partition, ".", page.resume);
    } else if (partition + 1 < partitions) {
      next = absl::StrCat(partition + 1, ".");
    }
    if (!next.empty()) {
      response.set_next_page_token(
          absl::StrCat("m", self, ".", EncodePageToken("problems", filter, next)));
    }
    responder.Finish(response);
  };
  if (partition == peers.self()) {
    absl::StatusOr<ProblemPage> page = core_.ListProblemsBefore(request, before, caller);
    if (!page.ok()) return responder.Finish(page.status());
    return finish(*std::move(page));
  }
  v1::ListProblemsRequest part = request;
  part.clear_page_token();
  peers.Call(partition, kListProblems, context, caller, ToByteBuffer(part),
             [responder, finish](const grpc::Status& status, const grpc::ByteBuffer& bytes) {
               if (!status.ok()) return responder.FinishRelayed(status, {});
               v1::ListProblemsResponse answer;
               if (absl::Status parsed = ParseMessage(bytes, &answer); !parsed.ok()) {
                 return responder.Finish(parsed);
               }
               ProblemPage page;
               page.problems.assign(std::make_move_iterator(answer.mutable_problems()->begin()),
                                    std::make_move_iterator(answer.mutable_problems()->end()));
               page.resume = answer.next_page_token();
               finish(std::move(page));
             },
             {{kPartitionListMetadata, before.empty() ? "-" : before}});
}

grpc::ServerUnaryReactor* IntakeService::AcknowledgeProblem(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* request,
                                                            grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Problem, v1::AcknowledgeProblemRequest>(
      *options_.gate, At(kAcknowledgeProblem), ByProblemName{Partitions(options_.peers)}, context,
      request, response,
      [](const Caller& caller, v1::AcknowledgeProblemRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "acknowledge");
      },
      [this](const Caller& caller, const v1::AcknowledgeProblemRequest& parsed,
             IntakeCore::ProblemDone done) {
        core_.AcknowledgeProblem(parsed, caller, std::move(done));
      });
}

grpc::ServerUnaryReactor* IntakeService::ResolveProblem(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Problem, v1::ResolveProblemRequest>(
      *options_.gate, At(kResolveProblem), ByProblemName{Partitions(options_.peers)}, context,
      request, response,
      [](const Caller& caller, v1::ResolveProblemRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "resolve");
      },
      [this](const Caller& caller, const v1::ResolveProblemRequest& parsed,
             IntakeCore::ProblemDone done) {
        core_.ResolveProblem(parsed, caller, std::move(done));
      });
}

grpc::ServerUnaryReactor* IntakeService::TransferProblem(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Problem, v1::TransferProblemRequest>(
      *options_.gate, At(kTransferProblem), ByProblemName{Partitions(options_.peers)}, context,
      request, response,
      [](const Caller& caller, v1::TransferProblemRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "transfer");
      },
      [this](const Caller& caller, const v1::TransferProblemRequest& parsed,
             IntakeCore::ProblemDone done) {
        core_.TransferProblem(parsed, caller, std::move(done));
      });
}

void IntakeService::ReadProblem(grpc::CallbackServerContext* context, const Caller& caller,
                                const std::string& name, ProblemRead done) {
  v1::GetProblemRequest request;
  request.set_name(name);
  const int partition = ProblemPartitionOf(name, Partitions(options_.peers));
  if (options_.peers == nullptr || partition == options_.peers->self() || partition < 0) {
    std::move(done)(core_.GetProblem(request, caller));
    return;
  }
  options_.peers->Call(
      partition, kGetProblem, context, caller, ToByteBuffer(request),
      [done = std::move(done)](const grpc::Status& status, const grpc::ByteBuffer& bytes) mutable {
        if (!status.ok()) {
          std::move(done)(FromGrpcStatus(status));
          return;
        }
        issue::v1::Problem problem;
        if (absl::Status parsed = ParseMessage(bytes, &problem); !parsed.ok()) {
          std::move(done)(parsed);
          return;
        }
        std::move(done)(std::move(problem));
      });
}

grpc::ServerUnaryReactor* IntakeService::LinkIssue(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::LinkIssueRequest>(
      *options_.gate, At(kLinkIssue), ByIssueName{Partitions(options_.peers)}, context, request,
      response,
      [](const Caller& caller, v1::LinkIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "link");
      },
      [this, context](const Caller& caller, const v1::LinkIssueRequest& parsed,
                      IntakeCore::IssueDone done) {
        if (absl::Status invalid = ValidateLinkIssueRequest(parsed); !invalid.ok()) {
          std::move(done)(invalid);
          return;
        }
        ReadProblem(
            context, caller, parsed.problem(),
            [this, &caller, parsed,
             done = std::move(done)](absl::StatusOr<issue::v1::Problem> problem) mutable {
              if (absl::IsNotFound(problem.status())) {
                // About the request's `problem`, not its `name`.
                std::move(done)(WithFieldViolation(absl::NotFoundError(problem.status().message()),
                                                   "problem", "no such problem"));
                return;
              }
              if (!problem.ok()) {
                std::move(done)(problem.status());
                return;
              }
              core_.LinkIssue(parsed, *problem, caller, std::move(done));
            });
      });
}

grpc::ServerUnaryReactor* IntakeService::UnlinkIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::UnlinkIssueRequest>(
      *options_.gate, At(kUnlinkIssue), ByIssueName{Partitions(options_.peers)}, context, request,
      response,
      [](const Caller& caller, v1::UnlinkIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "unlink");
      },
      [this](const Caller& caller, const v1::UnlinkIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.UnlinkIssue(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::WaitOnCustomer(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::WaitOnCustomerRequest>(
      *options_.gate, At(kWaitOnCustomer), ByIssueName{Partitions(options_.peers)}, context,
      request, response,
      [](const Caller& caller, v1::WaitOnCustomerRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "pause");
      },
      [this](const Caller& caller, const v1::WaitOnCustomerRequest& parsed,
             IntakeCore::IssueDone done) {
        core_.WaitOnCustomer(parsed, caller, std::move(done));
      });
}

grpc::ServerUnaryReactor* IntakeService::RespondToIssue(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::RespondToIssueRequest>(
      *options_.gate, At(kRespondToIssue), ByIssueName{Partitions(options_.peers)}, context,
      request, response,
      [](const Caller& caller, v1::RespondToIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayActForCustomers(caller, "answer for customers on");
      },
      [this](const Caller& caller, const v1::RespondToIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Respond(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::ResumeIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::ResumeIssueRequest>(
      *options_.gate, At(kResumeIssue), ByIssueName{Partitions(options_.peers)}, context, request,
      response,
      [](const Caller& caller, v1::ResumeIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayChangeIssues(caller, "resume");
      },
      [this](const Caller& caller, const v1::ResumeIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Resume(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::ReopenIssue(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::ReopenIssueRequest>(
      *options_.gate, At(kReopenIssue), ByIssueName{Partitions(options_.peers)}, context, request,
      response,
      [](const Caller& caller, v1::ReopenIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayActForCustomers(caller, "reopen");
      },
      [this](const Caller& caller, const v1::ReopenIssueRequest& parsed,
             IntakeCore::IssueDone done) { core_.Reopen(parsed, caller, std::move(done)); });
}

grpc::ServerUnaryReactor* IntakeService::RateIssue(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) {
  return ServeLaterAt<issue::v1::Issue, v1::RateIssueRequest>(
      *options_.gate, At(kRateIssue), ByIssueName{Partitions(options_.peers)}, context, request,
      response,
      [](const Caller& caller, v1::RateIssueRequest& parsed) {
        DefaultActor(caller, parsed);
        return MayActForCustomers(caller, "rate");
      },
      [this](const Caller& caller, const v1::RateIssueRequest& parsed, IntakeCore::IssueDone done) {
        core_.Rate(parsed, caller, std::move(done));
      });
}

}  // namespace switchboard::intake
