#include "services/intake/problem_store.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/testing/subprocess.h"
#include "services/intake/issue_id.h"

namespace switchboard::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kP1[] = "01jd8x3q5w0000000000000001";
constexpr char kP2[] = "01jd8x3q5w0000000000000002";
constexpr char kI1[] = "01jd8x3q5w00000000000000a1";
constexpr char kI2[] = "01jd8x3q5w00000000000000a2";
constexpr char kI3[] = "01jd8x3q5w00000000000000a3";

v1::StoredProblem Stored(const std::string& id, issue::v1::ProblemState state,
                         const std::string& team) {
  v1::StoredProblem stored;
  issue::v1::Problem& problem = *stored.mutable_problem();
  problem.set_name(ProblemName(id));
  problem.set_state(state);
  problem.mutable_owner()->set_business_group("cloud-infra");
  problem.mutable_owner()->set_team(team);
  problem.set_product("azure-storage");
  problem.add_linked_issues(IssueName(kI1));
  stored.mutable_escalation()->set_min_customers(3);
  return stored;
}

class ProblemStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    store_.reset();
    db_.reset();
    auto db = Database::Open({.path = dir_, .column_families = ProblemStore::ColumnFamilies()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<ProblemStore>(*db_);
  }

  void Write(rocksdb::WriteBatch& batch) {
    rocksdb::WriteOptions options;
    options.sync = true;
    ASSERT_TRUE(db_->db().Write(options, &batch).ok());
  }

  // Every index key, in order.
  std::vector<std::string> IndexKeys() {
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(db_->db().NewIterator({}, db_->Family("problem_index")));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key = it->key().ToString();
      std::replace(key.begin(), key.end(), '\0', '/');
      keys.push_back(key);
    }
    return keys;
  }

  const std::string dir_ = testing::MakeTempDir("problem_store");
  std::unique_ptr<Database> db_;
  std::unique_ptr<ProblemStore> store_;
};

TEST_F(ProblemStoreTest, AProblemSurvivesAReopenWithItsIndexMovedOnEachVersion) {
  auto none = store_->Get(kP1);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(*store_->LastProblemId(), "");

  const v1::StoredProblem opened = Stored(kP1, issue::v1::PROBLEM_STATE_OPEN, "storage-oncall");
  rocksdb::WriteBatch first;
  store_->Put(nullptr, opened, first);
  Write(first);
  EXPECT_THAT(IndexKeys(), UnorderedElementsAre(absl::StrCat("business_group/cloud-infra/", kP1),
                                                absl::StrCat("product/azure-storage/", kP1),
                                                absl::StrCat("state/PROBLEM_STATE_OPEN/", kP1),
                                                absl::StrCat("team/storage-oncall/", kP1)));

  v1::StoredProblem moved = Stored(kP1, issue::v1::PROBLEM_STATE_ACKNOWLEDGED, "storage-leads");
  rocksdb::WriteBatch second;
  store_->Put(&opened, moved, second);
  Write(second);
  Open();
  auto read = store_->Get(kP1);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->problem().state(), issue::v1::PROBLEM_STATE_ACKNOWLEDGED);
  EXPECT_EQ((*read)->escalation().min_customers(), 3);
  EXPECT_TRUE((*read)->problem().linked_issues().empty());  // read from the links, not stored
  EXPECT_THAT(IndexKeys(),
              UnorderedElementsAre(absl::StrCat("business_group/cloud-infra/", kP1),
                                   absl::StrCat("product/azure-storage/", kP1),
                                   absl::StrCat("state/PROBLEM_STATE_ACKNOWLEDGED/", kP1),
                                   absl::StrCat("team/storage-leads/", kP1)));

  rocksdb::WriteBatch third;
  store_->Put(nullptr, Stored(kP2, issue::v1::PROBLEM_STATE_OPEN, "storage-oncall"), third);
  Write(third);
  EXPECT_EQ(*store_->LastProblemId(), kP2);
}

TEST_F(ProblemStoreTest, WindowsLinksAndCustomerCounts) {
  const std::string key = "regional-outage|product=azure-storage|region=emea";
  EXPECT_FALSE(store_->Window(key)->has_value());
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  rocksdb::WriteBatch batch;
  store_->PutWindow(key, KeyWindow{ProblemName(kP1), t0, t0 + absl::Hours(2)}, batch);
  for (const char* issue : {kI3, kI1, kI2}) {
    v1::ProblemLinkRecord record;
    record.mutable_issue()->set_issue(IssueName(issue));
    *record.mutable_link_time() = ToProtoTime(t0);
    store_->PutLink(kP1, record, batch);
  }
  store_->PutCustomerLinks(kP1, "contoso", {2, issue::v1::CUSTOMER_TIER_STRATEGIC}, batch);
  store_->PutCustomerLinks(kP1, "fabrikam", {1, issue::v1::CUSTOMER_TIER_ENTERPRISE}, batch);
  Write(batch);

  auto window = store_->Window(key);
  ASSERT_TRUE(window.ok() && window->has_value());
  EXPECT_EQ((*window)->problem, ProblemName(kP1));
  EXPECT_EQ((*window)->start, t0);
  EXPECT_EQ((*window)->end, t0 + absl::Hours(2));
  EXPECT_TRUE(store_->Link(kP1, kI2)->has_value());
  EXPECT_FALSE(store_->Link(kP2, kI2)->has_value());
  EXPECT_THAT(*store_->LinkedIssueIds(kP1, "", 10), ElementsAre(kI1, kI2, kI3));
  EXPECT_THAT(*store_->LinkedIssueIds(kP1, kI1, 1), ElementsAre(kI2));
  EXPECT_THAT(*store_->LinkedIssueIds(kP1, kI3, 10), ElementsAre());
  EXPECT_THAT(*store_->LinkedIssueIds(kP2, "", 10), ElementsAre());
  EXPECT_EQ(store_->CustomerLinks(kP1, "contoso")->links, 2);
  EXPECT_EQ(store_->CustomerLinks(kP1, "contoso")->tier, issue::v1::CUSTOMER_TIER_STRATEGIC);
  EXPECT_EQ(store_->CustomerLinks(kP1, "adatum")->links, 0);

  rocksdb::WriteBatch unlink;
  store_->DeleteLink(kP1, kI2, unlink);
  store_->PutCustomerLinks(kP1, "fabrikam", {}, unlink);
  Write(unlink);
  EXPECT_FALSE(store_->Link(kP1, kI2)->has_value());
  EXPECT_EQ(store_->CustomerLinks(kP1, "fabrikam")->links, 0);
  EXPECT_THAT(*store_->LinkedIssueIds(kP1, "", 10), ElementsAre(kI1, kI3));
}

TEST_F(ProblemStoreTest, ACorruptRecordIsDataLossNotAWrongAnswer) {
  rocksdb::WriteBatch batch;
  batch.Put(db_->Family("problems"), kP1, "\xff\xff not a proto");
  batch.Put(db_->Family("problem_customers"), absl::StrCat(kP1, std::string(1, '\0'), "contoso"),
            "many");
  Write(batch);
  EXPECT_EQ(store_->Get(kP1).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->CustomerLinks(kP1, "contoso").status().code(), absl::StatusCode::kDataLoss);
}

TEST(ProblemNameTest, RoundTripsAndRefusesOtherNames) {
  EXPECT_EQ(ProblemName(kP1), absl::StrCat("problems/", kP1));
  EXPECT_EQ(ProblemIdFromName(ProblemName(kP1)), kP1);
  EXPECT_EQ(ProblemIdFromName(IssueName(kP1)), "");
  EXPECT_EQ(ProblemIdFromName("problems/nope"), "");
  EXPECT_EQ(ProblemIdFromName("problems/"), "");
}

}  // namespace
}  // namespace switchboard::intake
