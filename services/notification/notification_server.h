// The notification service, wired: its stores, core, push deliverer,
// maintenance and gRPC service on a ServiceHost. main.cc parses flags into
// Options and runs one; tests (testing/harness.h) and benchmarks run the
// same object in-process.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_SERVER_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "common/call_gate.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/forwarding.h"
#include "common/partition.h"
#include "common/rocks.h"
#include "common/server.h"
#include "services/notification/log_store.h"
#include "services/notification/maintenance.h"
#include "services/notification/notification_core.h"
#include "services/notification/notification_metrics.h"
#include "services/notification/notification_service.h"
#include "services/notification/push_deliverer.h"
#include "services/notification/push_store.h"

namespace switchboard::notification {

class NotificationServer {
 public:
  struct Options {
    std::string data_dir;  // required
    // How the database is opened: memtable size, and in tests a file system
    // that injects faults.
    StorageTuning storage;
    ServerConfig server;
    // Admits callers (common/call_gate.h); null: everyone, as Caller::Local().
    CallGate* gate = nullptr;
    // This process's partition of notification, and every partition's
    // address (common/partition.h); one partition by default. Calls to the
    // other partitions use `peer_credentials`.
    Partitioning partitioning;
    std::shared_ptr<grpc::ChannelCredentials> peer_credentials;
    PushDeliverer::Options push;
    Maintenance::Options maintenance;
    // Extra services served on the same port (e.g. a benchmark's baseline).
    std::vector<HostedService> extra_services;
    // fsync each group commit; only tests turn it off.
    bool sync = true;
    std::shared_ptr<prometheus::Registry> registry;  // a new one when null
    Clock* clock = &Clock::Real();
  };

  // INVALID_ARGUMENT for options out of range (push attempts, backoffs,
  // maintenance interval, retention), saying which.
  static absl::StatusOr<std::unique_ptr<NotificationServer>> Start(Options options);

  // Shutdown()s.
  ~NotificationServer();

  int RunUntilSignal();
  // Ends the streams and drains the gRPC server, then stops maintenance,
  // the deliverer and the commit queue. Idempotent.
  void Shutdown();

  int grpc_port() const { return host_->grpc_port(); }
  prometheus::Registry& registry() { return *options_.registry; }
  NotificationMetrics& metrics() { return *metrics_; }
  NotificationCore& core() { return *core_; }
  LogStore& logs() { return *logs_; }
  PushStore& pushes() { return *pushes_; }
  CommitQueue& commits() { return *commits_; }
  Maintenance& maintenance() { return *maintenance_; }

 private:
  explicit NotificationServer(Options options) : options_(std::move(options)) {}

  Options options_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<LogStore> logs_;
  std::unique_ptr<PushStore> pushes_;
  std::unique_ptr<NotificationMetrics> metrics_;
  std::unique_ptr<NotificationCore> core_;
  std::unique_ptr<PushDeliverer> deliverer_;
  std::unique_ptr<Maintenance> maintenance_;
  std::unique_ptr<PartitionPeers> partitions_;
  std::unique_ptr<NotificationService> service_;
  std::unique_ptr<ServiceHost> host_;
  bool stopped_ = false;
};

}  // namespace switchboard::notification

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_NOTIFICATION_SERVER_H_
