#include "common/rocks.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rocks_metrics.h"
#include "common/testing/subprocess.h"

namespace switchboard {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  const std::string dir_ = testing::MakeTempDir("rocks_test");
};

TEST_F(DatabaseTest, CreatesNestedDirectoryAndFamiliesAndReopens) {
  const std::string path = dir_ + "/a/b/db";
  {
    auto db = Database::Open({.path = path, .column_families = {"issues", "outbox"}});
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->db().Put({}, (*db)->Family("issues"), "k", "v").ok());
  }
  auto db = Database::Open({.path = path, .column_families = {"issues", "outbox"}});
  ASSERT_TRUE(db.ok()) << db.status();
  std::string value;
  ASSERT_TRUE((*db)->db().Get({}, (*db)->Family("issues"), "k", &value).ok());
  EXPECT_EQ(value, "v");
  EXPECT_TRUE((*db)->db().Get({}, (*db)->Family("outbox"), "k", &value).IsNotFound());
}

// Key-layout hints change how the memtable inserts, never what is stored:
// keys inserted against the hint (descending, interleaved prefixes, shorter
// than the suffix) read back in order, and a mostly-miss family still finds
// what it holds, in the memtable and after a flush.
TEST_F(DatabaseTest, KeyLayoutHintsKeepOrderAndLookups) {
  auto db = Database::Open(
      {.path = dir_, .column_families = {{"log", 2}, {"dedup", 0, /*mostly_miss=*/true}}});
  ASSERT_TRUE(db.ok()) << db.status();
  rocksdb::DB& rocks = (*db)->db();
  rocksdb::ColumnFamilyHandle* log = (*db)->Family("log");
  rocksdb::ColumnFamilyHandle* dedup = (*db)->Family("dedup");
  std::vector<std::string> keys;
  for (int i = 99; i >= 0; --i) {
    for (const char* prefix : {"b", "a", "c"}) {
      const std::string key = absl::StrCat(prefix, i < 10 ? "0" : "", i);
      ASSERT_TRUE(rocks.Put({}, log, key, key).ok());
      keys.push_back(key);
    }
  }
  ASSERT_TRUE(rocks.Put({}, log, "x", "short").ok());  // shorter than the suffix
  keys.push_back("x");
  std::sort(keys.begin(), keys.end());
  for (int i = 0; i < 1000; i += 7)
    ASSERT_TRUE(rocks.Put({}, dedup, absl::StrCat("k", i), "").ok());

  auto check = [&] {
    std::vector<std::string> read;
    std::unique_ptr<rocksdb::Iterator> it(rocks.NewIterator({}, log));
    for (it->SeekToFirst(); it->Valid(); it->Next()) read.push_back(it->key().ToString());
    EXPECT_EQ(read, keys);
    int found = 0;
    std::string value;
    for (int i = 0; i < 1000; ++i) found += rocks.Get({}, dedup, absl::StrCat("k", i), &value).ok();
    EXPECT_EQ(found, 143);
  };
  check();
  ASSERT_TRUE(rocks.Flush({}, {log, dedup}).ok());
  check();
}

// The value of `name`'s sample whose labels include `label`="value" (any
// sample when `label` is empty).
double Sample(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
              const std::string& label = "", const std::string& value = "") {
  for (const auto& family : families) {
    if (family.name != name) continue;
    for (const auto& sample : family.metric) {
      for (const auto& l : sample.label) {
        if (l.name == label && l.value == value) return sample.gauge.value + sample.counter.value;
      }
      if (label.empty()) return sample.gauge.value + sample.counter.value;
    }
  }
  ADD_FAILURE() << "no sample " << name << "{" << label << "=" << value << "}";
  return -1;
}

TEST_F(DatabaseTest, MetricsReadTheDatabasesProperties) {
  auto db = Database::Open({.path = dir_, .column_families = {"issues", "outbox"}});
  ASSERT_TRUE(db.ok()) << db.status();
  DatabaseMetrics metrics(**db);
  auto families = metrics.Collect();
  EXPECT_EQ(Sample(families, "switchboard_rocksdb_live_sst_bytes", "column_family", "issues"), 0);
  EXPECT_EQ(Sample(families, "switchboard_rocksdb_write_stopped"), 0);
  EXPECT_EQ(Sample(families, "switchboard_rocksdb_write_stalls_total", "condition", "stopped"), 0);

  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(
        (*db)->db().Put({}, (*db)->Family("issues"), absl::StrCat("key-", i), "value").ok());
  }
  families = metrics.Collect();
  EXPECT_GT(Sample(families, "switchboard_rocksdb_memtable_bytes", "column_family", "issues"),
            Sample(families, "switchboard_rocksdb_memtable_bytes", "column_family", "outbox"));
  ASSERT_TRUE((*db)->db().Flush({}, (*db)->Family("issues")).ok());
  families = metrics.Collect();
  EXPECT_GT(Sample(families, "switchboard_rocksdb_live_sst_bytes", "column_family", "issues"), 0);
  EXPECT_EQ(Sample(families, "switchboard_rocksdb_live_sst_bytes", "column_family", "outbox"), 0);
  EXPECT_EQ(Sample(families, "switchboard_rocksdb_estimated_keys", "column_family", "issues"),
            1000);
  EXPECT_EQ(Sample(families, "switchboard_rocksdb_background_errors_total"), 0);
  for (const char* reason : {"no_space", "io_error", "corruption", "other"}) {
    EXPECT_EQ(Sample(families, "switchboard_rocksdb_writes_refused", "reason", reason), 0);
  }
  EXPECT_EQ(Sample(families, "switchboard_rocksdb_error_recoveries_total", "outcome", "failed"), 0);
  EXPECT_GT(Sample(families, "switchboard_data_dir_free_bytes"), 0);
  EXPECT_GE(Sample(families, "switchboard_data_dir_size_bytes"),
            Sample(families, "switchboard_data_dir_free_bytes"));
  // Every family named with a base unit or _total, and the
  // switchboard_rocksdb_ prefix or, for the disk, switchboard_data_dir_.
  for (const auto& family : families) {
    EXPECT_TRUE(absl::StartsWith(family.name, "switchboard_rocksdb_") ||
                absl::StartsWith(family.name, "switchboard_data_dir_"))
        << family.name;
    EXPECT_EQ(family.type == prometheus::MetricType::Counter, absl::EndsWith(family.name, "_total"))
        << family.name;
  }
}

TEST_F(DatabaseTest, SecondOpenOfTheSameDirectoryIsUnavailable) {
  auto first = Database::Open({.path = dir_});
  ASSERT_TRUE(first.ok());
  auto second = Database::Open({.path = dir_});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST_F(DatabaseTest, UnknownFamilyAborts) {
  auto db = Database::Open({.path = dir_});
  ASSERT_TRUE(db.ok());
  EXPECT_DEATH((*db)->Family("nope"), "unknown column family");
}

TEST(FromRocksTest, MapsCodes) {
  EXPECT_TRUE(FromRocks(rocksdb::Status::OK(), "x").ok());
  EXPECT_EQ(FromRocks(rocksdb::Status::NotFound(), "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FromRocks(rocksdb::Status::Corruption("bad block"), "read").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(FromRocks(rocksdb::Status::IOError("disk"), "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(FromRocks(rocksdb::Status::Busy(), "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(FromRocks(rocksdb::Status::InvalidArgument("cf"), "x").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(FromRocks(rocksdb::Status::Corruption("bad block"), "read issue").message(),
            "read issue: Corruption: bad block");
}

}  // namespace
}  // namespace switchboard
