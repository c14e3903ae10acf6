// How a service secures its port and its calls to other services, from
// flags:
//
//   --tls_cert_file, --tls_key_file   this service's certificate (PEM), served
//                                     on --grpc_listen and presented to peers
//   --tls_client_ca_file              CA bundle for client certificates: when
//                                     set, every caller must present one it
//                                     signed (mutual TLS)
//   --tls_peer_ca_file                CA bundle the peers' certificates are
//                                     verified against (default: the client
//                                     CA, else the system's roots)
//   --access_policy_file              who may do what (common/authenticator.h)
//   --token_file                      bearer token hashes, by principal
//   --peer_token_file                 a bearer token to present to peers
//
// With none of them a service runs as the local stack does: plaintext, every
// caller Caller::Local(), allowed on loopback only (common/server.h). TLS
// without an access policy is refused: it would let any caller do anything.
// Certificates are read at start; rotating them takes a restart (a rolling
// restart in Kubernetes).
#ifndef SWITCHBOARD_COMMON_SECURITY_H_
#define SWITCHBOARD_COMMON_SECURITY_H_

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "common/call_gate.h"
#include "common/clock.h"
#include "common/server.h"

namespace switchboard {

struct SecurityFiles {
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  std::string tls_peer_ca_file;
  std::string access_policy_file;
  std::string token_file;
  std::string peer_token_file;
};

// The flags above.
SecurityFiles SecurityFilesFromFlags();

struct Security {
  // TLS for the gRPC port; null: plaintext.
  std::shared_ptr<grpc::ServerCredentials> server_credentials;
  // For calls to other services (and push receivers); plaintext when this
  // service has no certificate and no peer CA.
  std::shared_ptr<grpc::ChannelCredentials> peer_credentials;
  // Authentication and rate limits of incoming calls.
  std::unique_ptr<CallGate> gate;
};

// Reads and checks the files: NOT_FOUND for a file that cannot be read,
// INVALID_ARGUMENT for inconsistent flags (a certificate without its key, a
// client CA or token file without a certificate or policy, TLS without an
// access policy, a peer token over plaintext) or a bad policy.
absl::StatusOr<Security> LoadSecurity(const SecurityFiles& files, Clock& clock,
                                      prometheus::Registry& registry);

// The common server flags (common/server.h) with `security`'s credentials.
ServerConfig SecureServerConfigFromFlags(const Security& security);

// The capacity flags (--max_calls_in_flight, --max_call_bytes_in_flight,
// --max_commit_bytes, --max_streams): what the service's CallGate lets in
// (common/capacity.h).
Capacity::Limits CapacityLimitsFromFlags();

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_SECURITY_H_
