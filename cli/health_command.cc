// switchboard health: is each service up and serving?
#include <ostream>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace switchboard::cli {
namespace {

int Health(Session& session, const ParsedArgs&) {
  struct Service {
    const char* name;
    std::string target;
  };
  const Service services[] = {{"intake", session.intake_target()},
                              {"routing", session.routing_target()},
                              {"notification", session.notification_target()}};
  int code = 0;
  for (const Service& service : services) {
    auto stub = grpc::health::v1::Health::NewStub(session.Channel(service.target));
    auto context = session.Context();
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status =
        stub->Check(context.get(), grpc::health::v1::HealthCheckRequest(), &response);
    std::string state;
    if (status.ok()) {
      state = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
    } else {
      state = absl::StrFormat("unreachable (%s)", status.error_message());
    }
    if (!status.ok() || response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      code = kExitFailure;
    }
    if (session.json()) {
      session.out() << absl::StrFormat(R"({"service":"%s","target":"%s","status":"%s"})",
                                       service.name, service.target,
                                       status.ok() ? state : "UNREACHABLE")
                    << "\n";
    } else {
      session.out() << absl::StrFormat("%-13s %-22s %s\n", service.name, service.target, state);
    }
  }
  return code;
}

}  // namespace

void AddHealthCommand(CommandLine& command_line) {
  command_line.Add({
      .path = {"health"},
      .summary = "check that the three services are serving",
      .description = "Asks each service's grpc.health.v1.Health. Exits 1 if any is not SERVING.",
      .run = Health,
  });
}

}  // namespace switchboard::cli
