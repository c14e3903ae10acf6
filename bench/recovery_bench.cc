// Restart to SERVING with a large store: how long switchboard-intake takes
// from exec to answering grpc.health.v1 Check with SERVING, on a data
// directory holding --issues issues, against the same binary on an empty
// one (the floor: process start, RocksDB open, gRPC server up), alternating.
//
// The store is made once, as a crashed intake leaves it: every issue written
// as intake writes it (issue, request record, index entries, route task,
// RECEIVED event), all but the last --backlog with their route task and
// event already removed (routed and published), and the last --wal_issues
// written with the WAL on and never flushed: the process _exit()s with them
// only in the WAL, as after kill -9, so the restart replays them. Each run
// starts on a fresh copy of it.
//
//   build/bin/recovery_bench --issues=1000000 --pairs=3
//
// Prints a JSON line per run and one with the medians.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/outbox.h"
#include "common/proto_time.h"
#include "common/rocks.h"
#include "common/testing/subprocess.h"
#include "services/intake/intake_core.h"
#include "services/intake/issue_id.h"
#include "services/intake/issue_store.h"
#include "services/intake/store.h"

ABSL_FLAG(int, issues, 1'000'000, "issues in the store");
ABSL_FLAG(int, backlog, 10'000, "of them, the newest still waiting to be routed and published");
ABSL_FLAG(int, wal_issues, 50'000, "of them, the newest only in the WAL (as after kill -9)");
ABSL_FLAG(int, pairs, 3, "alternating runs: the store, then an empty directory");
ABSL_FLAG(int, description_bytes, 1024, "size of each issue's description");
ABSL_FLAG(std::string, work_dir, "", "where the store and its copies go (default: a temp dir)");
ABSL_FLAG(bool, keep, false, "keep the work directory");
ABSL_FLAG(std::vector<std::string>, intake_flags, {},
          "extra flags for switchboard-intake, comma-separated (e.g. "
          "--verify_checksums_on_open=false)");

namespace switchboard::bench {
namespace {

using intake::IssueStore;
using issue::v1::Issue;

// Writes the store into `path` in a child process that _exit()s without
// closing the database, so the newest issues are left in the WAL only.
absl::Status Fill(const std::string& path) {
  const pid_t child = fork();
  if (child < 0) return absl::InternalError("fork failed");
  if (child > 0) {
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return absl::InternalError("filling the store failed");
    return absl::OkStatus();
  }
  auto db =
      Database::Open({.path = path, .column_families = intake::IntakeStore::ColumnFamilies()});
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    _exit(1);
  }
  IssueStore store(**db);
  Clock& clock = Clock::Real();
  auto route_tasks = Outbox::Open(**db, intake::IntakeStore::kRouteQueue, clock);
  auto events = Outbox::Open(**db, intake::IntakeStore::kEventQueue, clock);
  if (!route_tasks.ok() || !events.ok()) {
    std::fprintf(stderr, "cannot open the outboxes\n");
    _exit(1);
  }
  intake::IssueIdGenerator ids(clock, "");
  const int total = absl::GetFlag(FLAGS_issues);
  const int backlog_from = total - absl::GetFlag(FLAGS_backlog);
  const int wal_from = total - absl::GetFlag(FLAGS_wal_issues);
  // Text that compresses about as well as prose (a run of one letter would
  // compress to nothing and flatter the store's size).
  const char* words[] = {"upload",    "timeout", "region", "customer", "error",   "latency",
                         "after",     "deploy",  "the",    "blob",     "request", "failed",
                         "retry",     "since",   "monday", "tenant",   "storage", "account",
                         "throttled", "with",    "code",   "503",      "when",    "writing",
                         "large",     "files",   "from",   "west",     "europe"};
  absl::BitGen random;
  const size_t description_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_description_bytes));
  const char* products[] = {"azure-storage", "virtual-machines", "kubernetes", "teams",
                            "xbox-live"};
  rocksdb::WriteBatch batch;
  const absl::Time start = absl::Now();
  for (int n = 0; n < total; ++n) {
    Issue issue;
    issue.set_name(intake::IssueName(ids.Next()));
    issue.set_title(absl::StrCat("Stored issue ", n));
    std::string description;
    while (description.size() < description_bytes) {
      absl::StrAppend(&description, words[absl::Uniform<size_t>(random, 0, std::size(words))], " ");
      if (absl::Bernoulli(random, 0.1))
        absl::StrAppend(&description, absl::Uniform(random, 0, 100000), " ");
    }
    description.resize(description_bytes);
    issue.set_description(std::move(description));
    issue.mutable_customer()->set_id(absl::StrCat("customer-", n % 5000));
    issue.set_product(products[n % 5]);
    issue.set_severity(static_cast<issue::v1::Severity>(1 + n % 4));
    issue.set_source("crm");
    issue.set_submitter("fill@example.com");
    issue.set_state(issue::v1::STATE_RECEIVED);
    *issue.mutable_create_time() = ToProtoTime(clock.Now());
    *issue.mutable_update_time() = issue.create_time();
    issue.set_etag("1");
    store.AddNewIssue(issue, absl::StrCat("fill-", n), static_cast<uint64_t>(n), batch);
    if (n >= backlog_from) {  // the older ones were routed and published long ago
      (*route_tasks)->Append(intake::IssueIdFromName(issue.name()), batch);
      (*events)->Append(
          intake::MakeEvent(issue::v1::EVENT_TYPE_RECEIVED, issue, clock.Now()).SerializeAsString(),
          batch);
    }
    if (batch.Count() >= 10'000 || n == total - 1 || n + 1 == wal_from) {
      rocksdb::WriteOptions options;
      options.disableWAL = n < wal_from;
      rocksdb::Status status = (*db)->db().Write(options, &batch);
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        _exit(1);
      }
      batch.Clear();
      // What was written without a WAL must reach SST files to be kept.
      if (n + 1 == wal_from) {
        rocksdb::FlushOptions flush;
        std::vector<rocksdb::ColumnFamilyHandle*> families = (*db)->Families();
        status = (*db)->db().Flush(flush, families);
        if (!status.ok()) {
          std::fprintf(stderr, "%s\n", status.ToString().c_str());
          _exit(1);
        }
      }
    }
  }
  (*db)->db().FlushWAL(/*sync=*/true);
  std::fprintf(stderr, "recovery_bench: stored %d issues in %.1f s\n", total,
               absl::ToDoubleSeconds(absl::Now() - start));
  _exit(0);  // no Close(): the newest issues stay in the WAL only
}

// Starts intake on `data_dir`; returns seconds from exec to SERVING.
absl::StatusOr<double> TimeToServing(const std::string& data_dir) {
  const int port = testing::FreePort();
  const std::string target = absl::StrCat("127.0.0.1:", port);
  const absl::Time start = absl::Now();
  std::vector<std::string> args = {
      absl::StrCat("--grpc_listen=", target), "--metrics_listen=127.0.0.1:0",
      absl::StrCat("--data_dir=", data_dir),  "--routing_target=127.0.0.1:1",
      "--notification_target=127.0.0.1:1",    "--log_level=warning"};
  for (const std::string& flag : absl::GetFlag(FLAGS_intake_flags)) args.push_back(flag);
  auto intake = testing::Subprocess::Start(testing::BinaryPath("switchboard-intake"), args,
                                           {.stderr_path = data_dir + ".log"});
  if (!intake.ok()) return intake.status();
  if (absl::Status serving = testing::WaitForServing(target, absl::Seconds(120),
                                                     /*poll=*/absl::Milliseconds(2));
      !serving.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(serving.message(), "; see ", data_dir, ".log"));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  (*intake)->Kill();  // the copy is thrown away
  return seconds;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n == 0 ? 0 : n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int Run() {
  std::string work = absl::GetFlag(FLAGS_work_dir);
  if (work.empty()) work = testing::MakeTempDir("recovery_bench");
  const std::string store = work + "/store";
  std::filesystem::remove_all(store);
  if (absl::Status filled = Fill(store); !filled.ok()) {
    std::fprintf(stderr, "recovery_bench: %s\n", filled.ToString().c_str());
    return 1;
  }
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(store)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  std::vector<double> full, empty;
  for (int pair = 0; pair < absl::GetFlag(FLAGS_pairs); ++pair) {
    for (const bool with_store : {true, false}) {
      const std::string dir = absl::StrCat(work, "/run-", pair, with_store ? "-store" : "-empty");
      std::filesystem::remove_all(dir);
      if (with_store) {
        std::filesystem::copy(store, dir, std::filesystem::copy_options::recursive);
      }
      absl::StatusOr<double> seconds = TimeToServing(dir);
      if (!seconds.ok()) {
        std::fprintf(stderr, "recovery_bench: %s\n", seconds.status().ToString().c_str());
        return 1;
      }
      (with_store ? full : empty).push_back(*seconds);
      std::printf(
          "{\"label\":\"%s\",\"issues\":%d,\"store_mib\":%.0f,\"seconds_to_serving\":%.3f}\n",
          with_store ? "store" : "empty", with_store ? absl::GetFlag(FLAGS_issues) : 0,
          with_store ? static_cast<double>(bytes) / (1 << 20) : 0.0, *seconds);
      std::fflush(stdout);
      std::filesystem::remove_all(dir);
    }
  }
  std::printf(
      "{\"label\":\"median\",\"issues\":%d,\"wal_issues\":%d,\"store_mib\":%.0f,"
      "\"store_seconds\":%.3f,\"store_spread\":\"%.3f-%.3f\",\"empty_seconds\":%.3f}\n",
      absl::GetFlag(FLAGS_issues), absl::GetFlag(FLAGS_wal_issues),
      static_cast<double>(bytes) / (1 << 20), Median(full),
      *std::min_element(full.begin(), full.end()), *std::max_element(full.begin(), full.end()),
      Median(empty));
  if (!absl::GetFlag(FLAGS_keep)) std::filesystem::remove_all(work);
  return 0;
}

}  // namespace
}  // namespace switchboard::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // switchboard-intake is built next to this program.
  setenv("SWITCHBOARD_BIN_DIR",
         std::filesystem::read_symlink("/proc/self/exe").parent_path().c_str(), /*overwrite=*/0);
  return switchboard::bench::Run();
}
