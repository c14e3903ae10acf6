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
  if (host_ != nullptr) host_->Shutdown();
  if (deliverer_ != nullptr) deliverer_->Stop();
  stub_.reset();
  channel_.reset();
  host_.reset();
  service_.reset();
  deliverer_.reset();
  core_.reset();
  commits_.reset();
  pushes_.reset();
  logs_.reset();
  db_.reset();
  std::filesystem::remove_all(dir_);
}

absl::Status NotificationHarness::Start() {
  std::vector<ColumnFamily> families = LogStore::ColumnFamilies();
  for (ColumnFamily& family : PushStore::ColumnFamilies()) families.push_back(std::move(family));
  ASSIGN_OR_RETURN(db_, Database::Open({.path = dir_, .column_families = families}));
  commits_ = std::make_unique<CommitQueue>(
      db_->db(), CommitQueue::Options{.name = "notification", .sync = options_.sync});
  logs_ = std::make_unique<LogStore>(*db_);
  pushes_ = std::make_unique<PushStore>(*db_);
  core_ = std::make_unique<NotificationCore>(*logs_, *commits_, metrics_, Clock::Real());
  deliverer_ = std::make_unique<PushDeliverer>(*core_, *logs_, *pushes_, *commits_, metrics_,
                                               Clock::Real(), options_.push);
  RETURN_IF_ERROR(deliverer_->Start());
  service_ = std::make_unique<NotificationService>(*core_, *deliverer_);
  std::vector<HostedService> services = {
      {service_.get(), v1::NotificationService::service_full_name()}};
  services.insert(services.end(), options_.extra_services.begin(), options_.extra_services.end());
  ASSIGN_OR_RETURN(host_, ServiceHost::Start({}, services, registry_));
  host_->SetDrainHook([this] { core_->Shutdown(); });
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->grpc_port()),
                                 grpc::InsecureChannelCredentials());
  stub_ = v1::NotificationService::NewStub(channel_);
  return absl::OkStatus();
}

}  // namespace switchboard::notification::testing
