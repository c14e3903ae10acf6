// A team's NotificationReceiver on a loopback port, for tests: answers each
// Deliver as a policy says and keeps what it accepted.
#ifndef SWITCHBOARD_SERVICES_NOTIFICATION_TESTING_RECEIVER_H_
#define SWITCHBOARD_SERVICES_NOTIFICATION_TESTING_RECEIVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/server.h"
#include "common/sync.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

namespace switchboard::notification::testing {

class Receiver final : public v1::NotificationReceiver::CallbackService {
 public:
  // Given the notification and how many calls for its (subscriber, sequence)
  // came before this one; OK accepts it.
  using Policy = std::function<grpc::Status(const v1::Notification&, int earlier_calls)>;

  // Serves on a free loopback port at once.
  explicit Receiver(Policy policy);
  ~Receiver() override;

  std::string endpoint() const;
  void SetPolicy(Policy policy);

  // "subscriber#sequence" of every accepted notification, in arrival order.
  std::vector<std::string> accepted() const;
  // The sequences accepted for `subscriber`, in arrival order.
  std::vector<uint64_t> accepted_sequences(const std::string& subscriber) const;

  grpc::ServerUnaryReactor* Deliver(grpc::CallbackServerContext* context,
                                    const v1::Notification* notification,
                                    v1::DeliverResponse* response) override;

 private:
  mutable Mutex mu_;
  Policy policy_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, uint64_t>> accepted_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ServiceHost> host_;
};

}  // namespace switchboard::notification::testing

#endif  // SWITCHBOARD_SERVICES_NOTIFICATION_TESTING_RECEIVER_H_
