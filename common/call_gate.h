// The door every call to a Switchboard service passes before its request is
// parsed: who is calling (common/authenticator.h), whether that caller is
// within its rate limit (common/rate_limiter.h), and whether the service has
// room for the call (common/capacity.h; the handler layer takes and gives
// back the room). Counted by caller class:
//
//   switchboard_calls_admitted_total{caller_class}
//   switchboard_calls_refused_total{caller_class, reason}
//
// reason is "unauthenticated" (caller_class "unknown"), "rate_limited" or
// "permission_denied" (recorded by the responder that finishes a call with
// PERMISSION_DENIED, common/handler.h).
//
// A gate without an Authenticator authenticates nobody: every caller is
// Caller::Local(), unlimited. That is the local stack's mode, allowed only
// where plaintext is (see common/server.h).
#ifndef SWITCHBOARD_COMMON_CALL_GATE_H_
#define SWITCHBOARD_COMMON_CALL_GATE_H_

#include <memory>
#include <string>

#include <grpcpp/server_context.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/authenticator.h"
#include "common/caller.h"
#include "common/capacity.h"
#include "common/clock.h"
#include "common/rate_limiter.h"

namespace switchboard {

// The metadata a partition sets on a call it forwards to another
// (common/forwarding.h): the principal it admitted. Believed only from a
// service authenticated by its certificate; that principal is then the
// caller, and is not rate-limited again.
inline constexpr char kOnBehalfOfMetadata[] = "switchboard-on-behalf-of";

class CallGate {
 public:
  // A gate that lets every caller in as Caller::Local(), counting nothing:
  // for services run without authentication, e.g. in unit tests.
  static CallGate& Open();

  // `authenticator` null: the local mode above, counted. Metrics go into
  // `registry`.
  CallGate(std::unique_ptr<Authenticator> authenticator, Clock& clock,
           prometheus::Registry& registry);

  // The caller of `context`: UNAUTHENTICATED, PERMISSION_DENIED (a
  // certificate naming nobody, or kOnBehalfOfMetadata from anyone but a
  // service over mutual TLS) or RESOURCE_EXHAUSTED with a RetryInfo detail
  // when it must wait. The caller lives as long as the gate.
  absl::StatusOr<const Caller*> Admit(const grpc::ServerContextBase& context);

  // Counts a call of `caller_class` refused with PERMISSION_DENIED.
  void CountDenied(absl::string_view caller_class);

  bool authenticates() const { return authenticator_ != nullptr; }

  // Bounds the work the service takes on (unlimited until called). Call it
  // before the service serves; `service` names it in refusals.
  void LimitCapacity(const Capacity::Limits& limits, absl::string_view service,
                     prometheus::Registry& registry);
  Capacity& capacity() { return *capacity_; }

 private:
  CallGate() = default;

  absl::StatusOr<const Caller*> AdmitOnBehalfOf(const grpc::ServerContextBase& context,
                                                const Caller& forwarder,
                                                absl::string_view principal);
  void CountAdmitted(absl::string_view caller_class);
  void CountRefused(absl::string_view caller_class, absl::string_view reason);

  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<Capacity> capacity_ = std::make_unique<Capacity>();
  prometheus::Family<prometheus::Counter>* admitted_ = nullptr;
  prometheus::Family<prometheus::Counter>* refused_ = nullptr;
  // Every series made up front (so dashboards see zeros, not gaps) and read
  // without a lock: admitted by caller class (a role name or "local"),
  // refused by "class/reason".
  absl::flat_hash_map<std::string, prometheus::Counter*> admitted_by_class_;
  absl::flat_hash_map<std::string, prometheus::Counter*> refused_by_class_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_CALL_GATE_H_
