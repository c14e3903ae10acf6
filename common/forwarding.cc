#include "common/forwarding.h"

#include <atomic>
#include <optional>
#include <utility>

#include <grpcpp/support/client_callback.h>

#include "absl/strings/str_cat.h"
#include "common/call_gate.h"
#include "common/channel.h"
#include "common/sync.h"

namespace switchboard {

bool WasForwarded(const grpc::ServerContextBase& context) {
  return context.client_metadata().count(kForwardedByMetadata) > 0;
}

std::optional<std::string> MetadataValue(const grpc::ServerContextBase& context,
                                         absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) return std::nullopt;
  return std::string(found->second.data(), found->second.size());
}

grpc::ByteBuffer ToByteBuffer(const google::protobuf::Message& message) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

PartitionPeers::PartitionPeers(std::string service, Partitioning partitioning,
                               const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                               const std::vector<std::string>& grpc_services,
                               std::vector<std::string> names)
    : service_(std::move(service)),
      partitioning_(std::move(partitioning)),
      names_(std::move(names)),
      credentials_(credentials != nullptr ? credentials : grpc::InsecureChannelCredentials()),
      grpc_services_(grpc_services),
      relay_pools_(std::make_unique<RelayPool[]>(partitioning_.addresses.size())) {
  stubs_.resize(partitioning_.addresses.size());
  for (int partition = 0; partition < static_cast<int>(stubs_.size()); ++partition) {
    if (partition == partitioning_.self) continue;
    stubs_[partition] = std::make_unique<grpc::GenericStub>(
        MakeServiceChannel(partitioning_.addresses[partition], credentials_, grpc_services_));
  }
}

std::pair<grpc::GenericStub*, int> PartitionPeers::TakeRelayConnection(int partition) const {
  RelayPool& pool = relay_pools_[partition];
  MutexLock lock(pool.mu);
  int chosen = 0;
  while (chosen < static_cast<int>(pool.connections.size()) &&
         pool.connections[chosen].relays >= kRelaysPerConnection) {
    ++chosen;
  }
  if (chosen == static_cast<int>(pool.connections.size())) {
    // Numbered from 1: connection 0 is the unary calls'.
    pool.connections.push_back(
        {std::make_unique<grpc::GenericStub>(MakeServiceChannel(
             partitioning_.addresses[partition], credentials_, grpc_services_, {}, chosen + 1)),
         0});
  }
  ++pool.connections[chosen].relays;
  return {pool.connections[chosen].stub.get(), chosen};
}

void PartitionPeers::ReturnRelayConnection(int partition, int connection) const {
  RelayPool& pool = relay_pools_[partition];
  MutexLock lock(pool.mu);
  --pool.connections[connection].relays;
}

std::unique_ptr<grpc::ClientContext> PartitionPeers::ContextFor(
    int partition, grpc::CallbackServerContext* context, const Caller& caller) const {
  (void)partition;
  std::unique_ptr<grpc::ClientContext> client =
      context != nullptr ? grpc::ClientContext::FromCallbackServerContext(*context)
                         : std::make_unique<grpc::ClientContext>();
  if (!caller.local()) client->AddMetadata(kOnBehalfOfMetadata, caller.name());
  client->AddMetadata(kForwardedByMetadata, absl::StrCat(partitioning_.self));
  return client;
}

std::string PartitionPeers::Name(int partition) const {
  if (partition < static_cast<int>(names_.size())) return names_[partition];
  return absl::StrCat(service_, " partition ", partition);
}

grpc::Status PartitionPeers::Unreachable(int partition, absl::string_view detail) const {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat(Name(partition), " (", partitioning_.addresses[partition],
                                   ") is unavailable: ", detail));
}

grpc::Status PartitionPeers::NotOwned(int partition) const {
  return grpc::Status(
      grpc::StatusCode::FAILED_PRECONDITION,
      absl::StrCat("a call forwarded to ", service_, " partition ", partitioning_.self,
                   " belongs to partition ", partition,
                   ": the partitions disagree about --partition_addresses; give every partition "
                   "the same list"));
}

namespace {

// The owner's answer, except that an UNAVAILABLE says which partition.
grpc::Status Answered(const PartitionPeers& peers, int partition, const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return status;
  return peers.Unreachable(partition, status.error_message());
}

}  // namespace

void PartitionPeers::Call(int partition, const char* method, grpc::CallbackServerContext* context,
                          const Caller& caller, const grpc::ByteBuffer& request, RawDone done,
                          const std::vector<std::pair<std::string, std::string>>& metadata) {
  struct Pending {
    std::unique_ptr<grpc::ClientContext> context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    RawDone done;
  };
  auto* pending = new Pending{ContextFor(partition, context, caller), request, {}, std::move(done)};
  for (const auto& [key, value] : metadata) pending->context->AddMetadata(key, value);
  stubs_[partition]->UnaryCall(
      pending->context.get(), method, grpc::StubOptions(), &pending->request, &pending->response,
      [this, partition, pending](const grpc::Status& status) {
        std::unique_ptr<Pending> owned(pending);
        std::move(owned->done)(Answered(*this, partition, status), owned->response);
      });
}

// A server stream relayed from the owner. Two reactors, because the server
// and client reactors both name their callbacks OnWriteDone/OnDone: the
// server side (this) writes what the client side (Upstream) reads, one
// message at a time, so a slow caller slows the owner's stream instead of
// filling memory. Deleted when both sides are done.
class PartitionPeers::Relayed final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  Relayed(const PartitionPeers& peers, int partition, const char* method,
          grpc::CallbackServerContext* context, const Caller& caller,
          const grpc::ByteBuffer& request, StreamSlot slot)
      : peers_(peers), partition_(partition), slot_(std::move(slot)), upstream_(this, request) {
    upstream_.context = peers.ContextFor(partition, context, caller);
    auto [stub, connection] = peers.TakeRelayConnection(partition);
    connection_ = connection;
    stub->PrepareBidiStreamingCall(upstream_.context.get(), method, grpc::StubOptions(),
                                   &upstream_);
    upstream_.Begin();
  }

 private:
  class Upstream final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    Upstream(Relayed* relay, const grpc::ByteBuffer& request) : relay_(relay), request_(request) {}

    void Begin() {
      AddHold();  // reads are restarted from the server side's OnWriteDone
      StartWriteLast(&request_, grpc::WriteOptions());
      StartRead(&incoming_);
      StartCall();
    }

    void ReadNext() { StartRead(&incoming_); }
    void Stop() {
      context->TryCancel();
      RemoveHold();
    }

    void OnReadDone(bool ok) override {
      if (!ok) {
        RemoveHold();  // the stream ended; OnDone brings its status
        return;
      }
      relay_->Send(&incoming_);
      incoming_.Clear();
    }
    void OnDone(const grpc::Status& status) override { relay_->UpstreamDone(status); }

    std::unique_ptr<grpc::ClientContext> context;

   private:
    Relayed* const relay_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer incoming_;
  };

  // Takes `message`'s contents; no write is in flight (reads wait for writes).
  void Send(grpc::ByteBuffer* message) {
    outgoing_.Swap(message);
    {
      MutexLock lock(mu_);
      writing_ = true;
    }
    StartWrite(&outgoing_);
  }

  void OnWriteDone(bool ok) override {
    bool finish = false;
    {
      MutexLock lock(mu_);
      writing_ = false;
      finish = status_.has_value();
    }
    if (finish) return FinishOnce();
    if (ok) {
      upstream_.ReadNext();
    } else {
      upstream_.Stop();  // the caller is gone
    }
  }

  void OnCancel() override { upstream_.context->TryCancel(); }

  void UpstreamDone(const grpc::Status& status) {
    bool finish;
    {
      MutexLock lock(mu_);
      status_ = Answered(peers_, partition_, status);
      finish = !writing_;
    }
    if (finish) FinishOnce();
    Release();
  }

  // Finishes the server side with the owner's status, once no write is in
  // flight.
  void FinishOnce() {
    grpc::Status status;
    {
      MutexLock lock(mu_);
      if (finished_) return;
      finished_ = true;
      status = *status_;
    }
    Finish(status);
  }

  void OnDone() override { Release(); }

  // Each side releases once when it is done; the last one deletes.
  void Release() {
    if (sides_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    peers_.ReturnRelayConnection(partition_, connection_);
    delete this;
  }

  const PartitionPeers& peers_;
  const int partition_;
  int connection_ = 0;  // of peers_'s relay pool for partition_
  StreamSlot slot_;     // room for this stream in the gate's capacity, until done
  Upstream upstream_;
  Mutex mu_;
  grpc::ByteBuffer outgoing_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> status_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> sides_{2};
};

grpc::ServerWriteReactor<grpc::ByteBuffer>* PartitionPeers::Relay(
    int partition, const char* method, grpc::CallbackServerContext* context, const Caller& caller,
    const grpc::ByteBuffer& request, StreamSlot slot) {
  return new Relayed(*this, partition, method, context, caller, request, std::move(slot));
}

}  // namespace switchboard
