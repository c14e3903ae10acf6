// The routing service, wired: its ruleset store, core and gRPC service on a
// ServiceHost, with --ruleset_file applied at start; or, for a replica that
// follows a writer (--ruleset_source), a core fed by a RulesetFollower and no
// store. main.cc parses flags into Options and runs one; tests run the same
// object in-process.
#ifndef SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVER_H_
#define SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVER_H_

#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "common/call_gate.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/forwarding.h"
#include "common/rocks.h"
#include "common/server.h"
#include "services/routing/routing_core.h"
#include "services/routing/routing_service.h"
#include "services/routing/ruleset_follower.h"
#include "services/routing/ruleset_store.h"

namespace switchboard::routing {

class RoutingServer {
 public:
  struct Options {
    std::string data_dir;  // required, except on a follower
    // How the database is opened: memtable size, and in tests a file system
    // that injects faults.
    StorageTuning storage;
    ServerConfig server;
    // Admits callers (common/call_gate.h); null: everyone, as Caller::Local().
    CallGate* gate = nullptr;
    // A Ruleset (protobuf JSON or YAML) applied at start when it differs
    // from the active one; "" for none. Not on a follower.
    std::string ruleset_file;
    // "host:port" of the routing writer this replica follows (it keeps no
    // store, decides on the writer's rulesets and forwards applies there);
    // "" for a writer or a single routing service. Calls to the writer use
    // `peer_credentials`.
    std::string ruleset_source;
    std::shared_ptr<grpc::ChannelCredentials> peer_credentials;
    std::shared_ptr<prometheus::Registry> registry;  // a new one when null
    Clock* clock = &Clock::Real();
  };

  static absl::StatusOr<std::unique_ptr<RoutingServer>> Start(Options options);

  // Shutdown()s.
  ~RoutingServer();

  int RunUntilSignal();
  // Drains the gRPC server, then stops the commit queue. Idempotent.
  void Shutdown();

  int grpc_port() const { return host_->grpc_port(); }
  RoutingCore& core() { return *core_; }

 private:
  explicit RoutingServer(Options options) : options_(std::move(options)) {}

  Options options_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<RulesetStore> store_;
  std::unique_ptr<RoutingCore> core_;
  std::unique_ptr<PartitionPeers> writer_;
  std::unique_ptr<RulesetFollower> follower_;
  std::unique_ptr<RoutingService> service_;
  std::unique_ptr<ServiceHost> host_;
  // Replicas only: turns health SERVING once a ruleset is held.
  std::unique_ptr<RulesetWatcher> serving_once_ruled_;
  bool stopped_ = false;
};

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_ROUTING_SERVER_H_
