#include "services/notification/testing/receiver.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace switchboard::notification::testing {

Receiver::Receiver(Policy policy) : policy_(std::move(policy)) {
  auto host = ServiceHost::Start({}, {{this, v1::NotificationReceiver::service_full_name()}},
                                 std::make_shared<prometheus::Registry>());
  if (!host.ok()) {
    log::Error("cannot start a test receiver", {{"error", host.status().ToString()}});
    std::abort();
  }
  host_ = std::move(*host);
}

Receiver::~Receiver() { host_->Shutdown(); }

std::string Receiver::endpoint() const { return absl::StrCat("127.0.0.1:", host_->grpc_port()); }

void Receiver::SetPolicy(Policy policy) {
  MutexLock lock(mu_);
  policy_ = std::move(policy);
}

std::vector<std::string> Receiver::accepted() const {
  MutexLock lock(mu_);
  std::vector<std::string> result;
  for (const auto& [subscriber, sequence] : accepted_)
    result.push_back(absl::StrCat(subscriber, "#", sequence));
  return result;
}

std::vector<uint64_t> Receiver::accepted_sequences(const std::string& subscriber) const {
  MutexLock lock(mu_);
  std::vector<uint64_t> result;
  for (const auto& [name, sequence] : accepted_) {
    if (name == subscriber) result.push_back(sequence);
  }
  return result;
}

grpc::ServerUnaryReactor* Receiver::Deliver(grpc::CallbackServerContext* context,
                                            const v1::Notification* notification,
                                            v1::DeliverResponse* response) {
  Policy policy;
  int earlier;
  {
    MutexLock lock(mu_);
    policy = policy_;
    earlier = calls_[absl::StrCat(notification->subscriber(), "#", notification->sequence())]++;
  }
  const grpc::Status status = policy(*notification, earlier);
  if (status.ok()) {
    MutexLock lock(mu_);
    accepted_.emplace_back(notification->subscriber(), notification->sequence());
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

}  // namespace switchboard::notification::testing
