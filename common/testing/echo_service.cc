#include "common/testing/echo_service.h"

#include <thread>

#include "absl/time/clock.h"

namespace switchboard::testing {

grpc::ServerUnaryReactor* EchoServiceImpl::Echo(grpc::CallbackServerContext* context,
                                                const EchoRequest* request,
                                                EchoResponse* response) {
  int attempt;
  {
    MutexLock lock(mu_);
    attempt = ++attempts_[request->key()];
  }
  response->set_payload(request->payload());
  response->set_attempt(attempt);
  grpc::Status status = grpc::Status::OK;
  if (attempt <= request->fail_first() || (request->fail_first() == 0 && request->code() != 0)) {
    status = grpc::Status(static_cast<grpc::StatusCode>(request->code()), "echo failure");
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (request->delay_ms() <= 0) {
    reactor->Finish(status);
    return reactor;
  }
  // A test helper may block a thread of its own; services never do.
  std::thread([reactor, status, delay = absl::Milliseconds(request->delay_ms())] {
    absl::SleepFor(delay);
    reactor->Finish(status);
  }).detach();
  return reactor;
}

int EchoServiceImpl::attempts(const std::string& key) {
  MutexLock lock(mu_);
  auto it = attempts_.find(key);
  return it == attempts_.end() ? 0 : it->second;
}

}  // namespace switchboard::testing
