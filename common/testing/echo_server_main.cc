// A server on the common runtime hosting EchoService, for tests that need a
// separate process: draining on SIGTERM, exit codes.
#include <memory>

#include "common/server.h"
#include "common/testing/echo_service.h"

int main(int argc, char** argv) {
  switchboard::InitProcess(argc, argv, "echo-server", "Test server hosting EchoService.");
  switchboard::testing::EchoServiceImpl echo;
  auto host = switchboard::ServiceHost::Start(
      switchboard::ServerConfigFromFlags(),
      {{&echo, switchboard::testing::EchoService::service_full_name()}},
      std::make_shared<prometheus::Registry>());
  if (!host.ok()) return switchboard::ExitWithError(host.status());
  return (*host)->RunUntilSignal();
}
