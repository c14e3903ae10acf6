// A RocksDB file system for tests that fails or slows the writes a real disk
// may fail or slow: a sync that returns EIO (optionally losing what it should
// have made durable, as a kernel that dropped the dirty pages), a sync that
// takes its time, a disk that is full. Everything else goes to the machine's
// file system.
//
//   auto fs = std::make_shared<FaultyFileSystem>();
//   auto db = Database::Open({.path = dir, .file_system = fs});
//   fs->FailSyncs(FileKind::kWal, 1);  // the next WAL sync fails
#ifndef SWITCHBOARD_COMMON_TESTING_FAULTY_FILE_SYSTEM_H_
#define SWITCHBOARD_COMMON_TESTING_FAULTY_FILE_SYSTEM_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/file_system.h>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/sync.h"

namespace switchboard::testing {

// What a file is to RocksDB, from its name.
enum class FileKind { kWal, kManifest, kTable, kOther };
inline constexpr int kFileKinds = 4;

FileKind KindOf(const std::string& path);

class FaultyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultyFileSystem();

  const char* Name() const override { return "switchboard.FaultyFileSystem"; }

  // The next `count` syncs of files of `kind` fail with EIO. With
  // `drop_unsynced`, each failed file is also cut back to what its last
  // successful sync made durable.
  void FailSyncs(FileKind kind, int count, bool drop_unsynced = false);

  // Every sync of a file of `kind` first sleeps `delay` (zero: none).
  void SetSyncDelay(FileKind kind, absl::Duration delay);

  // While on, appends, syncs and new files fail with ENOSPC as the POSIX
  // file system reports it (a retryable NoSpace), and the free space is 0.
  void SetNoSpace(bool on);

  // Syncs of `kind` so far, and of them those failed on purpose.
  int64_t syncs(FileKind kind) const;
  int64_t failed_syncs(FileKind kind) const;

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& options,
                                 uint64_t* free, rocksdb::IODebugContext* debug) override;

  // For the files it hands out.
  bool no_space() const;
  struct SyncFault {
    absl::Duration delay;
    bool fail = false;
    bool drop_unsynced = false;
  };
  SyncFault NextSync(FileKind kind);

 private:
  rocksdb::IOStatus Wrap(const std::string& path, rocksdb::IOStatus status,
                         std::unique_ptr<rocksdb::FSWritableFile>* file);

  mutable Mutex mu_;
  bool no_space_ ABSL_GUARDED_BY(mu_) = false;
  struct PerKind {
    int fail_syncs = 0;
    bool drop_unsynced = false;
    absl::Duration delay;
    int64_t syncs = 0;
    int64_t failed_syncs = 0;
  };
  std::array<PerKind, kFileKinds> kinds_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_COMMON_TESTING_FAULTY_FILE_SYSTEM_H_
