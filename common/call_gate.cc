#include "common/call_gate.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace switchboard {
namespace {

const Caller& LocalCaller() {
  static const Caller* const caller = new Caller(Caller::Local());
  return *caller;
}

absl::string_view Metadata(const grpc::ServerContextBase& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) return "";
  return absl::string_view(found->second.data(), found->second.size());
}

absl::string_view Authorization(const grpc::ServerContextBase& context) {
  return Metadata(context, "authorization");
}

// The subject alternative names of a verified client certificate.
std::vector<std::string> CertificateNames(const grpc::ServerContextBase& context) {
  std::vector<std::string> names;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return names;
  for (const grpc::string_ref& name : auth->FindPropertyValues(GRPC_X509_SAN_PROPERTY_NAME)) {
    names.emplace_back(name.data(), name.size());
  }
  return names;
}

}  // namespace

CallGate& CallGate::Open() {
  static CallGate* const gate = new CallGate();
  return *gate;
}

CallGate::CallGate(std::unique_ptr<Authenticator> authenticator, Clock& clock,
                   prometheus::Registry& registry)
    : authenticator_(std::move(authenticator)),
      limiter_(std::make_unique<RateLimiter>(clock)),
      admitted_(&prometheus::BuildCounter()
                     .Name("switchboard_calls_admitted_total")
                     .Help("Calls let in after authentication and the caller's rate limit, by "
                           "caller class (its first role, or local without authentication).")
                     .Register(registry)),
      refused_(&prometheus::BuildCounter()
                    .Name("switchboard_calls_refused_total")
                    .Help("Calls refused: unauthenticated, rate_limited or permission_denied, by "
                          "caller class (unknown when unauthenticated).")
                    .Register(registry)) {
  std::vector<std::string> classes = {"local"};
  for (int role = 0; role < kRoleCount; ++role) {
    classes.emplace_back(RoleName(static_cast<Role>(role)));
  }
  for (const std::string& caller_class : classes) {
    admitted_by_class_[caller_class] = &admitted_->Add({{"caller_class", caller_class}});
  }
  const auto refused = [this](const std::string& caller_class, const std::string& reason) {
    refused_by_class_[absl::StrCat(caller_class, "/", reason)] =
        &refused_->Add({{"caller_class", caller_class}, {"reason", reason}});
  };
  refused("unknown", "unauthenticated");
  refused("unknown", "permission_denied");  // a certificate naming no principal
  for (const std::string& caller_class : classes) {
    refused(caller_class, "rate_limited");
    refused(caller_class, "permission_denied");
  }
}

void CallGate::CountAdmitted(absl::string_view caller_class) {
  auto found = admitted_by_class_.find(caller_class);
  if (found != admitted_by_class_.end()) found->second->Increment();
}

void CallGate::CountRefused(absl::string_view caller_class, absl::string_view reason) {
  auto found = refused_by_class_.find(absl::StrCat(caller_class, "/", reason));
  if (found != refused_by_class_.end()) found->second->Increment();
}

void CallGate::LimitCapacity(const Capacity::Limits& limits, absl::string_view service,
                             prometheus::Registry& registry) {
  capacity_ = std::make_unique<Capacity>(limits, service, registry);
}

absl::StatusOr<const Caller*> CallGate::Admit(const grpc::ServerContextBase& context) {
  if (admitted_ == nullptr) return &LocalCaller();
  if (authenticator_ == nullptr) {
    CountAdmitted("local");
    return &LocalCaller();
  }
  absl::StatusOr<const Caller*> caller =
      authenticator_->Authenticate(Authorization(context), CertificateNames(context));
  if (!caller.ok()) {
    const bool unauthenticated = caller.status().code() == absl::StatusCode::kUnauthenticated;
    CountRefused("unknown", unauthenticated ? "unauthenticated" : "permission_denied");
    return caller;
  }
  if (const absl::string_view principal = Metadata(context, kOnBehalfOfMetadata);
      !principal.empty()) {
    return AdmitOnBehalfOf(context, **caller, principal);
  }
  const absl::Duration wait =
      limiter_->Acquire((*caller)->name(), authenticator_->RateLimitOf(**caller));
  if (wait > absl::ZeroDuration()) {
    CountRefused((*caller)->caller_class(), "rate_limited");
    // Rounded up, so that a caller who waits what it is told is admitted.
    const absl::Duration retry = absl::Ceil(wait, absl::Milliseconds(1));
    return ResourceExhaustedWithRetry(
        absl::StrFormat("%s is over its rate limit; retry in %s", (*caller)->name(),
                        absl::FormatDuration(retry)),
        retry);
  }
  CountAdmitted((*caller)->caller_class());
  return *caller;
}

absl::StatusOr<const Caller*> CallGate::AdmitOnBehalfOf(const grpc::ServerContextBase& context,
                                                        const Caller& forwarder,
                                                        absl::string_view principal) {
  // A bearer token can be replayed by whoever holds it; a certificate's key
  // never leaves the service. Only our own services, over mutual TLS, speak
  // for others.
  if (!forwarder.Has(Role::kService) || !Authorization(context).empty()) {
    CountRefused(forwarder.caller_class(), "permission_denied");
    return absl::PermissionDeniedError(absl::StrCat(
        forwarder.name(), " may not call on behalf of another principal (", kOnBehalfOfMetadata,
        "): only a service authenticated by its certificate may"));
  }
  absl::StatusOr<const Caller*> caller = authenticator_->Find(principal);
  if (!caller.ok()) {
    CountRefused(forwarder.caller_class(), "permission_denied");
    return caller;
  }
  // Its rate limit was applied where the call came in.
  CountAdmitted((*caller)->caller_class());
  return *caller;
}

void CallGate::CountDenied(absl::string_view caller_class) {
  CountRefused(caller_class, "permission_denied");
}

}  // namespace switchboard
