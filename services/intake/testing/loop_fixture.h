// What the dispatch loops' tests share: a scratch store with the two
// outboxes, a FakeLedger, fake peers, metrics and a FakeClock.
#ifndef SWITCHBOARD_SERVICES_INTAKE_TESTING_LOOP_FIXTURE_H_
#define SWITCHBOARD_SERVICES_INTAKE_TESTING_LOOP_FIXTURE_H_

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "common/testing/subprocess.h"
#include "services/intake/intake_core.h"
#include "services/intake/store.h"
#include "services/intake/testing/fake_ledger.h"
#include "services/intake/testing/fake_peers.h"

namespace switchboard::intake::testing {

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = IntakeStore::Open({.path = dir_, .sync = false}, clock_, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ledger_ = std::make_unique<fakes::FakeLedger>(store_->commits(), store_->route_tasks());
  }
  void TearDown() override {
    ledger_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A RECEIVED issue known to the ledger.
  issue::v1::Issue AddIssue(const std::string& id, const std::string& product = "storage") {
    issue::v1::Issue issue;
    issue.set_name(IssueName(id));
    issue.set_title(absl::StrCat("issue ", id));
    issue.set_product(product);
    issue.set_source("crm");
    issue.set_state(issue::v1::STATE_RECEIVED);
    ledger_->Put(issue);
    return issue;
  }

  void Append(Outbox& outbox, const std::vector<std::string>& values) {
    rocksdb::WriteBatch batch;
    for (const std::string& value : values) outbox.Append(value, batch);
    ASSERT_TRUE(store_->commits().CommitAndWait(std::move(batch)).ok());
  }

  double Gauge(prometheus::Family<prometheus::Gauge>& family, const std::string& queue) {
    return family.Add({{"queue", queue}}).Value();
  }
  double Failures(const std::string& peer, const std::string& code) {
    return metrics_.dispatch_failures.Add({{"peer", peer}, {"code", code}}).Value();
  }

  const std::string dir_ = switchboard::testing::MakeTempDir("intake_loop_test");
  FakeClock clock_;
  prometheus::Registry registry_;
  IntakeMetrics metrics_{registry_};
  fakes::FakeRouting routing_;
  fakes::FakeNotification notification_;
  std::unique_ptr<IntakeStore> store_;
  std::unique_ptr<fakes::FakeLedger> ledger_;
};

// Ids in the form of issue ids, ordered as their numbers.
inline std::string Id(int n) {
  std::string id = absl::StrCat(n);
  return std::string(kIssueIdLength - id.size(), '0') + id;
}

}  // namespace switchboard::intake::testing

#endif  // SWITCHBOARD_SERVICES_INTAKE_TESTING_LOOP_FIXTURE_H_
