// The three real binaries on free loopback ports, for end-to-end tests:
// start them, stop (SIGTERM) or kill -9 any one and start it again on the
// same port and data directory, and call them.
#ifndef SWITCHBOARD_TESTS_STACK_H_
#define SWITCHBOARD_TESTS_STACK_H_

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/testing/subprocess.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::testing {

enum class Service { kRouting, kNotification, kIntake };

class Stack {
 public:
  struct Options {
    // Applied by routing at start; the sample ruleset unless set.
    std::string ruleset_file;
    // Extra flags of each binary (e.g. a short --peer_timeout).
    std::vector<std::string> intake_flags;
    std::vector<std::string> notification_flags;
    // Flags of all three, with "{service}" replaced by the binary's name
    // (e.g. switchboard-intake): TLS and the access policy.
    std::vector<std::string> common_flags;
    // The address intake dials for a peer (routing or notification), given
    // the peer's own: e.g. a tests/fault_proxy.h in between. Unset: direct.
    std::function<std::string(Service peer, const std::string& address)> intake_peer_target;
    // "NAME=value" entries added to each binary's environment (e.g.
    // LD_PRELOAD of libfaketime).
    std::vector<std::string> env;
    // Give each a plaintext --health_listen port and wait for SERVING there
    // (needed once the gRPC port speaks TLS).
    bool health_port = false;
  };

  // Starts routing, notification and intake, each SERVING, under a new
  // temporary directory that the destructor removes.
  static absl::StatusOr<std::unique_ptr<Stack>> Launch(Options options);

  // Kills what still runs.
  ~Stack();

  // Starts `service` (again) on its port and data directory; waits for SERVING.
  absl::Status Start(Service service);
  // kill -9.
  void Kill(Service service);
  // Sends `signal` (SIGSTOP, SIGCONT...) to the running service.
  void Signal(Service service, int signal);
  // The running service's process id; 0 when it is not running.
  int pid(Service service) const;
  // SIGTERM; OK if it exits 0 within 30 s.
  absl::Status Stop(Service service);

  const std::string& target(Service service) const;
  // The plaintext health port's address, with Options::health_port.
  const std::string& health_target(Service service) const;
  // Where the service serves /metrics (127.0.0.1).
  int metrics_port(Service service) const { return metrics_ports_[static_cast<size_t>(service)]; }
  const std::string& dir() const { return dir_; }
  // The end of the service's log, for failure messages.
  std::string LogTail(Service service) const;

  intake::v1::IntakeService::Stub& intake() { return *intake_; }
  routing::v1::RoutingService::Stub& routing() { return *routing_; }
  notification::v1::NotificationService::Stub& notification() { return *notification_; }

 private:
  explicit Stack(Options options);

  Options options_;
  std::string dir_;
  std::array<std::string, 3> targets_;
  std::array<std::string, 3> health_targets_;
  std::array<int, 3> metrics_ports_;
  std::array<std::unique_ptr<Subprocess>, 3> processes_;
  std::unique_ptr<intake::v1::IntakeService::Stub> intake_;
  std::unique_ptr<routing::v1::RoutingService::Stub> routing_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notification_;
};

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_STACK_H_
