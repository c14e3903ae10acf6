// The intake service, wired: its store, core, peers, dispatch loops, census
// and gRPC service on a ServiceHost. main.cc parses flags into Options and
// runs one; tests run the same object in-process, with fake peers and a
// FakeClock if they wish.
//
//   IntakeServer::Options options{.data_dir = dir, .routing_target = "127.0.0.1:50052", ...};
//   ASSIGN_OR_RETURN(std::unique_ptr<IntakeServer> server, IntakeServer::Start(options));
//   return server->RunUntilSignal();
#ifndef SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVER_H_
#define SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>
#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/call_gate.h"
#include "common/clock.h"
#include "common/forwarding.h"
#include "common/partition.h"
#include "common/server.h"
#include "services/intake/census.h"
#include "services/intake/intake_core.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/intake_service.h"
#include "services/intake/mail_loop.h"
#include "services/intake/partition_service.h"
#include "services/intake/peers.h"
#include "services/intake/problem_census.h"
#include "services/intake/publish_loop.h"
#include "services/intake/route_loop.h"
#include "services/intake/sla_timer_loop.h"
#include "services/intake/store.h"

namespace switchboard::intake {

class IntakeServer {
 public:
  struct Options {
    std::string data_dir;  // required
    // How the database is opened: memtable size, and in tests a file system
    // that injects faults.
    StorageTuning storage;
    // Ports, drain and TLS (common/server.h); loopback port 0 by default.
    ServerConfig server;
    // Admits callers (common/call_gate.h); null: everyone, as Caller::Local().
    CallGate* gate = nullptr;
    // This process's partition of intake, and every partition's address
    // (common/partition.h); one partition by default.
    Partitioning partitioning;
    // The peers over gRPC, each call with `peer_timeout`. Routing replicas
    // are balanced over; notification_target lists every notification
    // partition's address in partition order, comma-separated...
    std::string routing_target = "127.0.0.1:50052";
    std::string notification_target = "127.0.0.1:50053";
    std::shared_ptr<grpc::ChannelCredentials> peer_credentials;
    absl::Duration peer_timeout = absl::Seconds(5);
    // ...or these, when set (tests' in-process fakes): one notification
    // peer, or one per notification partition.
    RoutingPeer* routing = nullptr;
    NotificationPeer* notification = nullptr;
    std::vector<NotificationPeer*> notification_partitions;
    absl::Duration census_interval = absl::Seconds(15);
    // Benchmarks only: SubmitIssue stores nothing (IntakeService::Options).
    bool noop_submit = false;
    RouteLoop::Options route;
    PublishLoop::Options publish;
    SlaTimerLoop::Options timers;
    MailLoop::Options mail;
    // fsync each group commit; only tests turn it off.
    bool sync = true;
    // Where the metrics go; a new registry when null.
    std::shared_ptr<prometheus::Registry> registry;
    // Time for ids, deadlines, timers and the loops' waits.
    Clock* clock = &Clock::Real();
  };

  // Opens the store, starts the loops and serves. The failure of any step
  // undoes the ones before it.
  static absl::StatusOr<std::unique_ptr<IntakeServer>> Start(Options options);

  // Shutdown()s.
  ~IntakeServer();

  // Waits for SIGTERM or SIGINT, then Shutdown(); the exit code.
  int RunUntilSignal();

  // Drains the gRPC server, then stops the census and the loops, then the
  // commit queue (writing what was queued). Idempotent.
  void Shutdown();

  int grpc_port() const { return host_->grpc_port(); }
  int metrics_port() const { return host_->metrics_port(); }
  IntakeStore& store() { return *store_; }
  IntakeCore& core() { return *core_; }
  IntakeMetrics& metrics() { return *metrics_; }
  prometheus::Registry& registry() { return *options_.registry; }

 private:
  explicit IntakeServer(Options options) : options_(std::move(options)) {}

  Options options_;
  std::unique_ptr<IntakeStore> store_;
  std::unique_ptr<IntakeMetrics> metrics_;
  std::unique_ptr<RoutingPeer> grpc_routing_;
  std::vector<std::unique_ptr<NotificationPeer>> grpc_notifications_;
  std::unique_ptr<PartitionPeers> partitions_;
  std::unique_ptr<IntakeCore> core_;
  std::unique_ptr<RouteLoop> route_loop_;
  std::vector<std::unique_ptr<PublishLoop>> publish_loops_;
  std::unique_ptr<SlaTimerLoop> sla_timer_loop_;
  // By destination partition, this one included.
  std::vector<std::unique_ptr<MailPeer>> mail_peers_;
  std::vector<std::unique_ptr<MailLoop>> mail_loops_;
  std::unique_ptr<OpenIssueCensus> census_;
  std::unique_ptr<ProblemCensus> problem_census_;
  std::unique_ptr<IntakeService> service_;
  std::unique_ptr<IntakePartitionService> partition_service_;
  std::unique_ptr<ServiceHost> host_;
  bool stopped_ = false;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_INTAKE_SERVER_H_
