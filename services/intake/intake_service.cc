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

namespace switchboard::intake {
namespace {

constexpr char kSubmitIssue[] = "/switchboard.intake.v1.IntakeService/SubmitIssue";
constexpr char kGetIssue[] = "/switchboard.intake.v1.IntakeService/GetIssue";
constexpr char kListIssues[] = "/switchboard.intake.v1.IntakeService/ListIssues";
constexpr char kAcknowledgeIssue[] = "/switchboard.intake.v1.IntakeService/AcknowledgeIssue";
constexpr char kResolveIssue[] = "/switchboard.intake.v1.IntakeService/ResolveIssue";
constexpr char kTransferIssue[] = "/switchboard.intake.v1.IntakeService/TransferIssue";

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
    absl::string_view token = request.page_token();
    const size_t dot = token.find('.');
    int minter = -1;
    if (token.front() != 'm' || dot == absl::string_view::npos ||
        !absl::SimpleAtoi(token.substr(1, dot - 1), &minter) || minter < 0 ||
        minter >= partitions) {
      return responder.Finish(NotAPageToken());
    }
    if (minter != peers.self()) {
      // Only the partition that made a token can check it.
      if (WasForwarded(*context)) return responder.FinishRelayed(peers.NotOwned(minter), {});
      return peers.Call(minter, kListIssues, context, caller, *request_bytes,
                        [responder](const grpc::Status& status, const grpc::ByteBuffer& response) {
                          responder.FinishRelayed(status, response);
                        });
    }
    absl::StatusOr<std::string> position =
        DecodePageToken(token.substr(dot + 1), "issues", request.filter());
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

}  // namespace switchboard::intake
