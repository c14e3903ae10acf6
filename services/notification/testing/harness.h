// An in-process notification service on a loopback port, over its own
// scratch RocksDB: the NotificationServer that main.cc runs, plus a client
// stub. For tests and benchmarks.
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

#include "absl/status/status.h"
#include "common/clock.h"
#include "services/notification/notification_server.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard::notification::testing {

class NotificationHarness {
 public:
  struct Options {
    // Admits callers and bounds the work taken on; null: everyone, unbounded.
    CallGate* gate = nullptr;
    PushDeliverer::Options push;
    // Extra services served on the same port (e.g. a benchmark's baseline).
    std::vector<HostedService> extra_services;
    // fsync each group commit; benchmarks keep it, tests may too.
    bool sync = true;
    // Time for the deliverer and maintenance (a FakeClock in tests).
    Clock* clock = &Clock::Real();
  };

  explicit NotificationHarness(Options options);
  NotificationHarness() : NotificationHarness(Options{}) {}
  // Stops the server and deletes the data.
  ~NotificationHarness();

  absl::Status Start();

  // Shuts the gRPC server down (streams end with UNAVAILABLE).
  void ShutdownServer() { server_->Shutdown(); }

  int port() const { return server_->grpc_port(); }
  v1::NotificationService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  prometheus::Registry& registry() { return server_->registry(); }
  NotificationMetrics& metrics() { return server_->metrics(); }
  LogStore& logs() { return server_->logs(); }
  PushStore& pushes() { return server_->pushes(); }
  CommitQueue& commits() { return server_->commits(); }

 private:
  const Options options_;
  const std::string dir_;
  std::unique_ptr<NotificationServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
};

}  // namespace switchboard::notification::testing

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_TESTING_HARNESS_H_
