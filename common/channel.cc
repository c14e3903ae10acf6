#include "common/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/validation.h"

namespace switchboard {
namespace {

std::string ProtoDuration(absl::Duration duration) {
  return absl::StrCat(absl::ToDoubleSeconds(duration), "s");
}

}  // namespace

std::string RetryServiceConfig(const std::vector<std::string>& services,
                               const RetryPolicy& policy) {
  std::vector<std::string> names;
  for (const std::string& service : services) {
    names.push_back(absl::StrCat(R"({"service":")", service, R"("})"));
  }
  return absl::StrCat(R"({"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
                      R"(],"retryPolicy":{"maxAttempts":)", policy.max_attempts,
                      R"(,"initialBackoff":")", ProtoDuration(policy.initial_backoff),
                      R"(","maxBackoff":")", ProtoDuration(policy.max_backoff),
                      R"(","backoffMultiplier":)", policy.backoff_multiplier,
                      R"(,"retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

std::shared_ptr<grpc::Channel> MakeServiceChannel(
    absl::string_view target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const std::vector<std::string>& services, const RetryPolicy& policy) {
  grpc::ChannelArguments args;
  if (policy.max_attempts > 1) {
    args.SetServiceConfigJSON(RetryServiceConfig(services, policy));
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  } else {
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  }
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC's default reconnect backoff grows to 120 s: after a peer's outage
  // we would not notice it is back for up to two minutes. Cap it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetMaxReceiveMessageSize(static_cast<int>(4 * kMaxRequestBytes));
  return grpc::CreateCustomChannel(std::string(target), credentials, args);
}

void SetTimeout(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace switchboard
