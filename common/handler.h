// The handler layer every service's gRPC adapter is written in: the caller
// is admitted by the service's CallGate (authenticated, within its rate
// limit) before the request is parsed, the service parses requests itself,
// the service's access rules permit or refuse the call, and only then does
// the core see it. One line per RPC:
//
//   grpc::ServerUnaryReactor* GetIssue(grpc::CallbackServerContext* context,
//                                      const grpc::ByteBuffer* request,
//                                      grpc::ByteBuffer* response) override {
//     return ServeNow<v1::GetIssueRequest>(gate_, context, request, response, Anyone,
//         [this](const Caller& caller, const v1::GetIssueRequest& parsed) {
//           return core_.Get(parsed, caller);
//         });
//   }
//
// gRPC's callback API answers a request it cannot parse (a proto3 string
// that is not UTF-8, truncated bytes) with UNIMPLEMENTED and no message.
// Services register their methods as raw (`WithRawCallbackMethod_X`) and
// parse here instead, so such requests get INVALID_ARGUMENT saying what is
// wrong.
#ifndef SWITCHBOARD_COMMON_HANDLER_H_
#define SWITCHBOARD_COMMON_HANDLER_H_

#include <utility>

#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/call_gate.h"
#include "common/caller.h"
#include "common/forwarding.h"
#include "common/status.h"

namespace switchboard {

// Parses `bytes` into `message`. INVALID_ARGUMENT, naming the message type,
// for bytes that are not a valid serialization (including strings that are
// not UTF-8).
absl::Status ParseMessage(const grpc::ByteBuffer& bytes, google::protobuf::Message* message);

// Finishes one unary call, exactly once: with a response, or with an error
// (converted by ToGrpcStatus, field violations included). A
// PERMISSION_DENIED is counted by `gate` (if any) for `caller_class`, and
// the room the call took in the gate's capacity (`work`, `bytes`) is given
// back. Cheap to copy or move into an asynchronous completion.
class UnaryResponder {
 public:
  UnaryResponder(grpc::ServerUnaryReactor* reactor, grpc::ByteBuffer* response,
                 CallGate* gate = nullptr, absl::string_view caller_class = "",
                 Capacity::Work work = Capacity::Work::kRead, int64_t bytes = 0)
      : reactor_(reactor),
        response_(response),
        gate_(gate),
        caller_class_(caller_class),
        work_(work),
        bytes_(bytes) {}

  void Finish(const google::protobuf::Message& response) const;
  void Finish(const absl::Status& status) const;
  // Finishes with another partition's answer, as it came (common/forwarding.h).
  void FinishRelayed(const grpc::Status& status, const grpc::ByteBuffer& response) const;

  template <typename T>
  void Finish(const absl::StatusOr<T>& result) const {
    if (result.ok()) {
      Finish(*result);
    } else {
      Finish(result.status());
    }
  }

 private:
  // Gives back the call's room in the gate's capacity.
  void Release() const;

  grpc::ServerUnaryReactor* reactor_;
  grpc::ByteBuffer* response_;
  CallGate* gate_;
  absl::string_view caller_class_;  // owned by the gate's Authenticator
  Capacity::Work work_;
  int64_t bytes_;
};

// Admits the caller through `gate`, takes room for the call (a `work`, of
// the request's size) in the gate's capacity, parses the request as
// `Request` and calls `handler(caller, request, responder)`, which must
// finish the responder, now or later; the request lives only until the
// handler returns (the caller as long as the gate). A caller the gate
// refuses gets its status, a call there is no room for RESOURCE_EXHAUSTED
// with RetryInfo, and a request that does not parse INVALID_ARGUMENT,
// without calling the handler.
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* ServeUnary(CallGate& gate, grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request_bytes,
                                     grpc::ByteBuffer* response_bytes, Handler&& handler,
                                     Capacity::Work work = Capacity::Work::kRead) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<const Caller*> caller = gate.Admit(*context);
  if (!caller.ok()) {
    UnaryResponder(reactor, response_bytes).Finish(caller.status());
    return reactor;
  }
  const auto bytes = static_cast<int64_t>(request_bytes->Length());
  if (absl::Status room = gate.capacity().Take(work, bytes); !room.ok()) {
    UnaryResponder(reactor, response_bytes).Finish(room);
    return reactor;
  }
  UnaryResponder responder(reactor, response_bytes, &gate, (*caller)->caller_class(), work, bytes);
  Request request;
  if (absl::Status parsed = ParseMessage(*request_bytes, &request); !parsed.ok()) {
    responder.Finish(parsed);
    return reactor;
  }
  std::forward<Handler>(handler)(**caller, request, responder);
  return reactor;
}

// Permission of a call that every admitted caller may make (its access
// rules live in the core, against stored state).
template <typename Request>
absl::Status Anyone(const Caller&, Request&) {
  return absl::OkStatus();
}

// Serves a unary RPC whose answer is ready at once: `permit(caller,
// request)` (absl::Status; it may complete the request, e.g. default a
// field), then `answer(caller, request)` (absl::StatusOr<Response>).
template <typename Request, typename Permit, typename Answer>
grpc::ServerUnaryReactor* ServeNow(CallGate& gate, grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request_bytes,
                                   grpc::ByteBuffer* response_bytes, Permit&& permit,
                                   Answer&& answer) {
  return ServeUnary<Request>(gate, context, request_bytes, response_bytes,
                             [&](const Caller& caller, Request& request, UnaryResponder responder) {
                               if (absl::Status denied = permit(caller, request); !denied.ok()) {
                                 return responder.Finish(denied);
                               }
                               responder.Finish(answer(caller, request));
                             });
}

// Serves a unary RPC that answers later, typically once its write is
// durable: `permit` as for ServeNow, then `start(caller, request, done)`,
// where `done` (absl::AnyInvocable<void(absl::StatusOr<Response>) &&>) runs
// once, on any thread.
template <typename Response, typename Request, typename Permit, typename Start>
grpc::ServerUnaryReactor* ServeLater(CallGate& gate, grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request_bytes,
                                     grpc::ByteBuffer* response_bytes, Permit&& permit,
                                     Start&& start) {
  return ServeUnary<Request>(
      gate, context, request_bytes, response_bytes,
      [&](const Caller& caller, Request& request, UnaryResponder responder) {
        if (absl::Status denied = permit(caller, request); !denied.ok()) {
          return responder.Finish(denied);
        }
        start(caller, request,
              [responder](const absl::StatusOr<Response>& result) { responder.Finish(result); });
      },
      Capacity::Work::kWrite);
}

// Where a call of a partitioned service is served (common/forwarding.h):
// `peers` (null for a service that is one partition) and the method's path,
// for forwarding. The RPC's `owner(request)` gives the partition that owns a
// request, or -1 when it cannot tell (an invalid name, say), in which case
// this partition serves it and refuses what is invalid.
struct Placement {
  PartitionPeers* peers = nullptr;
  const char* method = nullptr;
};

// ServeUnary at the owner: admitted and parsed here, then forwarded as it
// came (bytes, caller, deadline) when another partition owns it.
template <typename Request, typename Owner, typename Handler>
grpc::ServerUnaryReactor* ServeUnaryAt(CallGate& gate, const Placement& placement, Owner&& owner,
                                       grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request_bytes,
                                       grpc::ByteBuffer* response_bytes, Handler&& handler,
                                       Capacity::Work work = Capacity::Work::kRead) {
  return ServeUnary<Request>(
      gate, context, request_bytes, response_bytes,
      [&](const Caller& caller, Request& request, UnaryResponder responder) {
        const int partition = placement.peers == nullptr ? -1 : owner(request);
        if (partition < 0 || partition == placement.peers->self()) {
          return handler(caller, request, responder);
        }
        if (WasForwarded(*context)) {
          return responder.FinishRelayed(placement.peers->NotOwned(partition), {});
        }
        placement.peers->Call(
            partition, placement.method, context, caller, *request_bytes,
            [responder](const grpc::Status& status, const grpc::ByteBuffer& response) {
              responder.FinishRelayed(status, response);
            });
      },
      work);
}

// ServeNow at the owner (see ServeUnaryAt).
template <typename Request, typename Owner, typename Permit, typename Answer>
grpc::ServerUnaryReactor* ServeNowAt(CallGate& gate, const Placement& placement, Owner&& owner,
                                     grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request_bytes,
                                     grpc::ByteBuffer* response_bytes, Permit&& permit,
                                     Answer&& answer) {
  return ServeUnaryAt<Request>(
      gate, placement, owner, context, request_bytes, response_bytes,
      [&](const Caller& caller, Request& request, UnaryResponder responder) {
        if (absl::Status denied = permit(caller, request); !denied.ok()) {
          return responder.Finish(denied);
        }
        responder.Finish(answer(caller, request));
      });
}

// ServeLater at the owner (see ServeUnaryAt).
template <typename Response, typename Request, typename Owner, typename Permit, typename Start>
grpc::ServerUnaryReactor* ServeLaterAt(CallGate& gate, const Placement& placement, Owner&& owner,
                                       grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request_bytes,
                                       grpc::ByteBuffer* response_bytes, Permit&& permit,
                                       Start&& start) {
  return ServeUnaryAt<Request>(
      gate, placement, owner, context, request_bytes, response_bytes,
      [&](const Caller& caller, Request& request, UnaryResponder responder) {
        if (absl::Status denied = permit(caller, request); !denied.ok()) {
          return responder.Finish(denied);
        }
        start(caller, request,
              [responder](const absl::StatusOr<Response>& result) { responder.Finish(result); });
      },
      Capacity::Work::kWrite);
}

// On a call between partitions: "answer from your own partition only".
inline constexpr char kPartitionOnlyMetadata[] = "switchboard-partition-only";

// Whether a list or fan-out call must be answered from this partition alone:
// the service is one partition, or another partition is asking.
inline bool AnswerHere(const PartitionPeers* peers, const grpc::ServerContextBase& context) {
  return peers == nullptr || MetadataValue(context, kPartitionOnlyMetadata).has_value();
}

// A list that is not ordered across partitions, served by walking them in
// order: partition 0's pages, then partition 1's, ... Its page token is
// "p{partition}." and that partition's own token, which only it can read;
// any partition can serve any page by asking that one. `local(request)`
// answers for this partition (absl::StatusOr<Response>). A page may hold
// fewer than page_size items; an empty partition is skipped.
template <typename Request, typename Response, typename Local>
void ServeWalk(PartitionPeers& peers, const char* method, grpc::CallbackServerContext* context,
               const Caller& caller, const Request& request, UnaryResponder responder,
               Local local) {
  int partition = 0;
  std::string inner;
  if (!request.page_token().empty()) {
    absl::string_view token = request.page_token();
    const size_t dot = token.find('.');
    if (token.front() != 'p' || dot == absl::string_view::npos ||
        !absl::SimpleAtoi(token.substr(1, dot - 1), &partition) || partition < 0 ||
        partition >= peers.count()) {
      return responder.Finish(InvalidArgumentWithViolations("invalid page_token",
                                                            {{"page_token", "not a page token"}}));
    }
    inner = std::string(token.substr(dot + 1));
  }
  // One partition's page; on to the next partition when it has no more.
  struct Walk {
    PartitionPeers& peers;
    const char* method;
    grpc::CallbackServerContext* context;
    const Caller& caller;
    Request request;
    UnaryResponder responder;
    Local local;

    void Step(int partition, std::string inner) {
      request.set_page_token(inner);
      if (partition == peers.self()) {
        absl::StatusOr<Response> page = local(request);
        if (!page.ok()) {
          responder.Finish(page.status());
          delete this;
          return;
        }
        return Answered(partition, *std::move(page));
      }
      peers.Call(partition, method, context, caller, ToByteBuffer(request),
                 [this, partition](const grpc::Status& status, const grpc::ByteBuffer& bytes) {
                   Response page;
                   if (!status.ok()) {
                     responder.FinishRelayed(status, {});
                     delete this;
                     return;
                   }
                   if (absl::Status parsed = ParseMessage(bytes, &page); !parsed.ok()) {
                     responder.Finish(parsed);
                     delete this;
                     return;
                   }
                   Answered(partition, std::move(page));
                 },
                 {{kPartitionOnlyMetadata, "1"}});
    }

    void Answered(int partition, Response page) {
      const std::string next = page.next_page_token();
      page.clear_next_page_token();
      const bool last = partition + 1 == peers.count();
      if (next.empty() && !last && page.ByteSizeLong() == 0) return Step(partition + 1, "");
      if (!next.empty()) {
        page.set_next_page_token(absl::StrCat("p", partition, ".", next));
      } else if (!last) {
        page.set_next_page_token(absl::StrCat("p", partition + 1, "."));
      }
      responder.Finish(page);
      delete this;
    }
  };
  (new Walk{peers, method, context, caller, request, responder, std::move(local)})
      ->Step(partition, std::move(inner));
}

// A server stream that only reports an error.
template <typename Message>
class FailedStream final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit FailedStream(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

// The start of a server-streaming RPC, as ServeNow's for a unary one: admit,
// take room for a stream, parse, permit, then `open(caller, request, slot)`,
// which returns the stream's reactor; the reactor keeps the StreamSlot until
// it is done. Any refusal is a FailedStream.
template <typename Request, typename Permit, typename Open>
grpc::ServerWriteReactor<grpc::ByteBuffer>* ServeStream(CallGate& gate,
                                                        grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request_bytes,
                                                        Permit&& permit, Open&& open) {
  absl::StatusOr<const Caller*> caller = gate.Admit(*context);
  if (!caller.ok()) return new FailedStream<grpc::ByteBuffer>(caller.status());
  if (absl::Status room = gate.capacity().Take(Capacity::Work::kStream, 0); !room.ok()) {
    return new FailedStream<grpc::ByteBuffer>(room);
  }
  StreamSlot slot(&gate.capacity());
  Request request;
  if (absl::Status parsed = ParseMessage(*request_bytes, &request); !parsed.ok()) {
    return new FailedStream<grpc::ByteBuffer>(parsed);
  }
  if (absl::Status denied = permit(**caller, request); !denied.ok()) {
    if (denied.code() == absl::StatusCode::kPermissionDenied) {
      gate.CountDenied((*caller)->caller_class());
    }
    return new FailedStream<grpc::ByteBuffer>(denied);
  }
  return open(**caller, request, std::move(slot));
}

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_HANDLER_H_
