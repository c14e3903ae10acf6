// A callback-API EchoService for tests of the server runtime.
#ifndef SWITCHBOARD_COMMON_TESTING_ECHO_SERVICE_H_
#define SWITCHBOARD_COMMON_TESTING_ECHO_SERVICE_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "common/sync.h"
#include "common/testing/echo.grpc.pb.h"

namespace switchboard::testing {

class EchoServiceImpl final : public EchoService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context, const EchoRequest* request,
                                 EchoResponse* response) override;

  // How many attempts of `key` arrived.
  int attempts(const std::string& key);

 private:
  Mutex mu_;
  absl::flat_hash_map<std::string, int> attempts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_COMMON_TESTING_ECHO_SERVICE_H_
