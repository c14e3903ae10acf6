#include "services/notification/testing/harness.h"

#include <filesystem>
#include <utility>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/testing/subprocess.h"

namespace switchboard::notification::testing {

NotificationHarness::NotificationHarness(Options options)
    : options_(std::move(options)),
      dir_(switchboard::testing::MakeTempDir("notification_harness")) {}

NotificationHarness::~NotificationHarness() {
  stub_.reset();
  channel_.reset();
  server_.reset();
  std::filesystem::remove_all(dir_);
}

absl::Status NotificationHarness::Start() {
  ASSIGN_OR_RETURN(server_, NotificationServer::Start({.data_dir = dir_,
                                                       .gate = options_.gate,
                                                       .push = options_.push,
                                                       .extra_services = options_.extra_services,
                                                       .sync = options_.sync,
                                                       .clock = options_.clock}));
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->grpc_port()),
                                 grpc::InsecureChannelCredentials());
  stub_ = v1::NotificationService::NewStub(channel_);
  return absl::OkStatus();
}

}  // namespace switchboard::notification::testing
