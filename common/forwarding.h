// Forwarding between the partitions of one service (common/partition.h):
// any partition answers any call, passing a call that belongs to another
// partition on to it, so a caller needs only one address (a Kubernetes
// Service's). The C++ CLI and other clients may also go straight to the
// owner.
//
// A forwarded call carries the request's bytes as they came, the caller's
// deadline and cancellation, and two metadata entries:
//
//   switchboard-on-behalf-of   the principal the forwarding partition
//                              admitted (common/call_gate.h); absent when
//                              callers are not authenticated
//   switchboard-forwarded-by   the forwarding partition's index
//
// The owner's CallGate admits the call as that principal (believed only from
// a service authenticated by its certificate) without counting it against
// its rate limit again, and the owner authorizes it as usual. A forwarded
// call is never forwarded again: a partition that receives one it does not
// own answers FAILED_PRECONDITION, as the partitions disagree about who owns
// what. A partition that cannot be reached fails the call with UNAVAILABLE
// naming the partition; calls for other partitions go on.
#ifndef SWITCHBOARD_COMMON_FORWARDING_H_
#define SWITCHBOARD_COMMON_FORWARDING_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/caller.h"
#include "common/capacity.h"
#include "common/partition.h"
#include "common/sync.h"

namespace switchboard {

inline constexpr char kForwardedByMetadata[] = "switchboard-forwarded-by";

// Whether the call of `context` was forwarded by another partition.
bool WasForwarded(const grpc::ServerContextBase& context);

// The value of metadata `key` of the call of `context`, if it has one.
std::optional<std::string> MetadataValue(const grpc::ServerContextBase& context,
                                         absl::string_view key);

// `message` serialized, to send as a raw request.
grpc::ByteBuffer ToByteBuffer(const google::protobuf::Message& message);

// One service's partitions as seen from one of them: a channel to each of
// the others.
class PartitionPeers {
 public:
  using RawDone = absl::AnyInvocable<void(const grpc::Status&, const grpc::ByteBuffer&) &&>;

  // `service` names the service in messages ("intake"); `grpc_services` are
  // the full names of its gRPC services (for the channels' retry policy).
  // `names`, when given, name each partition in messages instead of
  // "<service> partition <p>".
  PartitionPeers(std::string service, Partitioning partitioning,
                 const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                 const std::vector<std::string>& grpc_services,
                 std::vector<std::string> names = {});

  const Partitioning& partitioning() const { return partitioning_; }
  int self() const { return partitioning_.self; }
  int count() const { return partitioning_.count(); }

  // Calls unary `method` ("/package.Service/Method", a string that outlives
  // the call) on `partition` (not self) with `request` as it is, on behalf
  // of `caller`. With `context` (may be null), the call has its deadline and
  // is cancelled with it. `done` runs once, on a gRPC thread, with the
  // owner's status (an unreachable partition's UNAVAILABLE names it) and,
  // when OK, its response bytes.
  // `metadata` is added to the call's.
  void Call(int partition, const char* method, grpc::CallbackServerContext* context,
            const Caller& caller, const grpc::ByteBuffer& request, RawDone done,
            const std::vector<std::pair<std::string, std::string>>& metadata = {});

  // A reactor that serves a server-streaming call by relaying `method` from
  // `partition`: each message it sends, its status, and the caller's
  // cancellation back to it. The reactor keeps `slot` until it is done.
  // Relays do not share the unary calls' connection: they are spread over
  // connections of their own, at most kRelaysPerConnection on each, so that
  // a server's per-connection stream limit (--max_concurrent_streams) never
  // makes a relay, or a forwarded call, wait behind long-lived streams.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Relay(int partition, const char* method,
                                                    grpc::CallbackServerContext* context,
                                                    const Caller& caller,
                                                    const grpc::ByteBuffer& request,
                                                    StreamSlot slot = {});

  static constexpr int kRelaysPerConnection = 64;

  // UNAVAILABLE: "<service> partition <p> (<address>) is unavailable: <detail>".
  grpc::Status Unreachable(int partition, absl::string_view detail) const;

  // FAILED_PRECONDITION for a forwarded call this partition does not own.
  grpc::Status NotOwned(int partition) const;

 private:
  class Relayed;

  // The connections relays to one partition use, opened as needed.
  struct RelayConnection {
    std::unique_ptr<grpc::GenericStub> stub;
    int relays = 0;  // open on it now
  };
  struct RelayPool {
    Mutex mu;
    std::vector<RelayConnection> connections ABSL_GUARDED_BY(mu);
  };

  // A connection to `partition` with room for one more relay, counted.
  std::pair<grpc::GenericStub*, int> TakeRelayConnection(int partition) const;
  void ReturnRelayConnection(int partition, int connection) const;

  std::unique_ptr<grpc::ClientContext> ContextFor(int partition,
                                                  grpc::CallbackServerContext* context,
                                                  const Caller& caller) const;

  std::string Name(int partition) const;

  const std::string service_;
  const Partitioning partitioning_;
  const std::vector<std::string> names_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const std::vector<std::string> grpc_services_;
  // Indexed by partition; null for self.
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::unique_ptr<RelayPool[]> relay_pools_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_FORWARDING_H_
