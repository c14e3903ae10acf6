// A child process for the commit queue's durability test: `--writers`
// threads commit keys through one CommitQueue as fast as they can and print
// "acked <key>" on stdout after each acknowledgement, until killed.
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/commit_queue.h"
#include "common/rocks.h"
#include "common/sync.h"

ABSL_FLAG(std::string, data_dir, "", "database directory");
ABSL_FLAG(int, writers, 8, "concurrent writers");
ABSL_FLAG(std::string, prefix, "k", "key prefix, unique per run");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto db = switchboard::Database::Open({.path = absl::GetFlag(FLAGS_data_dir)});
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  switchboard::CommitQueue queue((*db)->db(), {.name = "writer"});
  switchboard::Mutex stdout_mu;
  std::vector<std::thread> threads;
  for (int w = 0; w < absl::GetFlag(FLAGS_writers); ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0;; ++i) {
        const std::string key = absl::StrCat(absl::GetFlag(FLAGS_prefix), "-", w, "-", i);
        rocksdb::WriteBatch batch;
        batch.Put(key, std::string(1024, 'v'));
        switchboard::OneShot done;
        queue.Commit(std::move(batch), [&](const absl::Status& status) {
          if (status.ok()) {
            switchboard::MutexLock lock(stdout_mu);
            std::printf("acked %s\n", key.c_str());
            std::fflush(stdout);
          }
          done.Fire();
        });
        done.Wait();
      }
    });
  }
  for (auto& thread : threads) thread.join();
}
