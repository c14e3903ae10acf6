#include "common/testing/faulty_file_system.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/time/clock.h"

namespace switchboard::testing {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// ENOSPC as RocksDB's POSIX file system reports it (env/io_posix.cc).
IOStatus NoSpace(const std::string& path) {
  IOStatus status = IOStatus::NoSpace("While appending to file: " + path, std::strerror(ENOSPC));
  status.SetRetryable(true);
  return status;
}

class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path,
                     FaultyFileSystem& fs)
      : FSWritableFileOwnerWrapper(std::move(file)),
        path_(std::move(path)),
        kind_(KindOf(path_)),
        fs_(fs) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* debug) override {
    if (fs_.no_space()) return NoSpace(path_);
    return Appended(target()->Append(data, options, debug), data.size());
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& verification,
                  IODebugContext* debug) override {
    if (fs_.no_space()) return NoSpace(path_);
    return Appended(target()->Append(data, options, verification, debug), data.size());
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* debug) override {
    if (fs_.no_space()) return NoSpace(path_);
    return Appended(target()->PositionedAppend(data, offset, options, debug), data.size());
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& verification,
                            IODebugContext* debug) override {
    if (fs_.no_space()) return NoSpace(path_);
    return Appended(target()->PositionedAppend(data, offset, options, verification, debug),
                    data.size());
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* debug) override {
    return Synced(options, debug, [&] { return target()->Sync(options, debug); });
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* debug) override {
    return Synced(options, debug, [&] { return target()->Fsync(options, debug); });
  }

 private:
  IOStatus Appended(IOStatus status, size_t bytes) {
    if (status.ok()) appended_ += bytes;
    return status;
  }

  template <typename SyncFn>
  IOStatus Synced(const IOOptions& options, IODebugContext* debug, SyncFn sync) {
    if (fs_.no_space()) return NoSpace(path_);
    const FaultyFileSystem::SyncFault fault = fs_.NextSync(kind_);
    if (fault.delay > absl::ZeroDuration()) absl::SleepFor(fault.delay);
    if (fault.fail) {
      if (fault.drop_unsynced) {
        // What the last sync did not make durable is gone.
        target()->Truncate(synced_, options, debug).PermitUncheckedError();
      }
      return IOStatus::IOError("While fsync: " + path_, std::strerror(EIO));
    }
    IOStatus status = sync();
    if (status.ok()) synced_ = appended_;
    return status;
  }

  const std::string path_;
  const FileKind kind_;
  FaultyFileSystem& fs_;
  uint64_t appended_ = 0;
  uint64_t synced_ = 0;
};

}  // namespace

FileKind KindOf(const std::string& path) {
  if (absl::EndsWith(path, ".log")) return FileKind::kWal;
  if (absl::StrContains(path, "MANIFEST-")) return FileKind::kManifest;
  if (absl::EndsWith(path, ".sst")) return FileKind::kTable;
  return FileKind::kOther;
}

FaultyFileSystem::FaultyFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

void FaultyFileSystem::FailSyncs(FileKind kind, int count, bool drop_unsynced) {
  MutexLock lock(mu_);
  kinds_[static_cast<int>(kind)].fail_syncs = count;
  kinds_[static_cast<int>(kind)].drop_unsynced = drop_unsynced;
}

void FaultyFileSystem::SetSyncDelay(FileKind kind, absl::Duration delay) {
  MutexLock lock(mu_);
  kinds_[static_cast<int>(kind)].delay = delay;
}

void FaultyFileSystem::SetNoSpace(bool on) {
  MutexLock lock(mu_);
  no_space_ = on;
}

bool FaultyFileSystem::no_space() const {
  MutexLock lock(mu_);
  return no_space_;
}

int64_t FaultyFileSystem::syncs(FileKind kind) const {
  MutexLock lock(mu_);
  return kinds_[static_cast<int>(kind)].syncs;
}

int64_t FaultyFileSystem::failed_syncs(FileKind kind) const {
  MutexLock lock(mu_);
  return kinds_[static_cast<int>(kind)].failed_syncs;
}

FaultyFileSystem::SyncFault FaultyFileSystem::NextSync(FileKind kind) {
  MutexLock lock(mu_);
  PerKind& per_kind = kinds_[static_cast<int>(kind)];
  ++per_kind.syncs;
  SyncFault fault{.delay = per_kind.delay};
  if (per_kind.fail_syncs > 0) {
    --per_kind.fail_syncs;
    ++per_kind.failed_syncs;
    fault.fail = true;
    fault.drop_unsynced = per_kind.drop_unsynced;
  }
  return fault;
}

IOStatus FaultyFileSystem::Wrap(const std::string& path, IOStatus status,
                                std::unique_ptr<rocksdb::FSWritableFile>* file) {
  if (status.ok()) *file = std::make_unique<FaultyWritableFile>(std::move(*file), path, *this);
  return status;
}

IOStatus FaultyFileSystem::NewWritableFile(const std::string& path,
                                           const rocksdb::FileOptions& options,
                                           std::unique_ptr<rocksdb::FSWritableFile>* file,
                                           IODebugContext* debug) {
  if (no_space()) return NoSpace(path);
  return Wrap(path, target()->NewWritableFile(path, options, file, debug), file);
}

IOStatus FaultyFileSystem::ReopenWritableFile(const std::string& path,
                                              const rocksdb::FileOptions& options,
                                              std::unique_ptr<rocksdb::FSWritableFile>* file,
                                              IODebugContext* debug) {
  if (no_space()) return NoSpace(path);
  return Wrap(path, target()->ReopenWritableFile(path, options, file, debug), file);
}

IOStatus FaultyFileSystem::ReuseWritableFile(const std::string& path, const std::string& old_path,
                                             const rocksdb::FileOptions& options,
                                             std::unique_ptr<rocksdb::FSWritableFile>* file,
                                             IODebugContext* debug) {
  if (no_space()) return NoSpace(path);
  return Wrap(path, target()->ReuseWritableFile(path, old_path, options, file, debug), file);
}

IOStatus FaultyFileSystem::GetFreeSpace(const std::string& path, const IOOptions& options,
                                        uint64_t* free, IODebugContext* debug) {
  if (no_space()) {
    *free = 0;
    return IOStatus::OK();
  }
  return target()->GetFreeSpace(path, options, free, debug);
}

}  // namespace switchboard::testing
