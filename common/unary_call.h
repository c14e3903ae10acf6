// Serving unary RPCs: the caller is admitted by the service's CallGate
// (authenticated, within its rate limit) before the request is parsed, and
// the service parses requests itself.
//
// gRPC's callback API answers a request it cannot parse (a proto3 string
// that is not UTF-8, truncated bytes) with UNIMPLEMENTED and no message.
// Services register their methods as raw (`WithRawCallbackMethod_X`) and
// parse here instead, so such requests get INVALID_ARGUMENT saying what is
// wrong.
//
//   grpc::ServerUnaryReactor* RouteIssue(grpc::CallbackServerContext* context,
//                                        const grpc::ByteBuffer* request,
//                                        grpc::ByteBuffer* response) override {
//     return ServeUnary<RouteIssueRequest>(gate_, context, request, response,
//         [&](const Caller& caller, const RouteIssueRequest& parsed, UnaryResponder responder) {
//           if (!caller.Has(Role::kService)) return responder.Finish(caller.Deny("route"));
//           responder.Finish(core_.Route(parsed));
//         });
//   }
#ifndef SWITCHBOARD_COMMON_UNARY_CALL_H_
#define SWITCHBOARD_COMMON_UNARY_CALL_H_

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

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_UNARY_CALL_H_
