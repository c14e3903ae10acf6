// An in-process notification service on a loopback port, over its own
// scratch RocksDB: the stores, core, push deliverer and gRPC server wired as
// main.cc wires them. For tests and benchmarks.
//
//   NotificationHarness harness({.push = {.initial_backoff = absl::Milliseconds(5)}});
//   ASSERT_TRUE(harness.Start().ok());
//   harness.stub().Publish(...);
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_TESTING_HARNESS_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_TESTING_HARNESS_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <prometheus/registry.h>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/commit_queue.h"
#include "common/rocks.h"
#include "common/server.h"
#include "services/notification/log_store.h"
#include "services/notification/maintenance.h"
#include "services/notification/notification_core.h"
#include "services/notification/notification_service.h"
#include "services/notification/push_deliverer.h"
#include "services/notification/push_store.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard::notification::testing {

class NotificationHarness {
 public:
  struct Options {
    PushDeliverer::Options push;
    // Extra services served on the same port (e.g. a benchmark's baseline).
    std::vector<HostedService> extra_services;
    // fsync each group commit; benchmarks keep it, tests may too.
    bool sync = true;
  };

  explicit NotificationHarness(Options options);
  NotificationHarness() : NotificationHarness(Options{}) {}
  // Stops the server and the deliverer, and deletes the data.
  ~NotificationHarness();

  absl::Status Start();

  // Shuts the gRPC server down (streams end with UNAVAILABLE).
  void ShutdownServer() { host_->Shutdown(); }

  int port() const { return host_->grpc_port(); }
  v1::NotificationService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  prometheus::Registry& registry() { return *registry_; }
  NotificationMetrics& metrics() { return metrics_; }
  LogStore& logs() { return *logs_; }
  PushStore& pushes() { return *pushes_; }
  CommitQueue& commits() { return *commits_; }

 private:
  const Options options_;
  const std::string dir_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  NotificationMetrics metrics_{*registry_};
  std::unique_ptr<Database> db_;
  std::unique_ptr<CommitQueue> commits_;
  std::unique_ptr<LogStore> logs_;
  std::unique_ptr<PushStore> pushes_;
  std::unique_ptr<NotificationCore> core_;
  std::unique_ptr<PushDeliverer> deliverer_;
  std::unique_ptr<NotificationService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
};

}  // namespace switchboard::notification::testing

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_TESTING_HARNESS_H_
