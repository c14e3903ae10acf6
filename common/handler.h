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
#include "absl/strings/string_view.h"
#include "common/call_gate.h"
#include "common/caller.h"
#include "common/status.h"

namespace switchboard {

// Parses `bytes` into `message`. INVALID_ARGUMENT, naming the message type,
// for bytes that are not a valid serialization (including strings that are
// not UTF-8).
absl::Status ParseMessage(const grpc::ByteBuffer& bytes, google::protobuf::Message* message);

// Finishes one unary call, exactly once: with a response, or with an error
// (converted by ToGrpcStatus, field violations included). A
// PERMISSION_DENIED is counted by `gate` (if any) for `caller_class`. Cheap
// to copy or move into an asynchronous completion.
class UnaryResponder {
 public:
  UnaryResponder(grpc::ServerUnaryReactor* reactor, grpc::ByteBuffer* response,
                 CallGate* gate = nullptr, absl::string_view caller_class = "")
      : reactor_(reactor), response_(response), gate_(gate), caller_class_(caller_class) {}

  void Finish(const google::protobuf::Message& response) const;
  void Finish(const absl::Status& status) const;

  template <typename T>
  void Finish(const absl::StatusOr<T>& result) const {
    if (result.ok()) {
      Finish(*result);
    } else {
      Finish(result.status());
    }
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  grpc::ByteBuffer* response_;
  CallGate* gate_;
  absl::string_view caller_class_;  // owned by the gate's Authenticator
};

// Admits the caller through `gate`, parses the request as `Request` and
// calls `handler(caller, request, responder)`, which must finish the
// responder, now or later; the request lives only until the handler
// returns (the caller as long as the gate). A caller the gate refuses gets
// its status, and a request that does not parse INVALID_ARGUMENT, without
// calling the handler.
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* ServeUnary(CallGate& gate, grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request_bytes,
                                     grpc::ByteBuffer* response_bytes, Handler&& handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<const Caller*> caller = gate.Admit(*context);
  if (!caller.ok()) {
    UnaryResponder(reactor, response_bytes).Finish(caller.status());
    return reactor;
  }
  UnaryResponder responder(reactor, response_bytes, &gate, (*caller)->caller_class());
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
      });
}

// A server stream that only reports an error.
template <typename Message>
class FailedStream final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit FailedStream(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

// The start of a server-streaming RPC, as ServeNow's for a unary one: admit,
// parse, permit, then `open(caller, request)`, which returns the stream's
// reactor. Any refusal is a FailedStream.
template <typename Request, typename Permit, typename Open>
grpc::ServerWriteReactor<grpc::ByteBuffer>* ServeStream(CallGate& gate,
                                                        grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request_bytes,
                                                        Permit&& permit, Open&& open) {
  absl::StatusOr<const Caller*> caller = gate.Admit(*context);
  if (!caller.ok()) return new FailedStream<grpc::ByteBuffer>(caller.status());
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
  return open(**caller, request);
}

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_HANDLER_H_
