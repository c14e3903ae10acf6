#include "common/rocks.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <system_error>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/sync.h"

namespace switchboard {

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  if (status.IsNoSpace()) {
    return UnavailableWithRetry(
        absl::StrCat(context,
                     ": the disk holding the data directory is full; nothing was written. "
                     "Writes resume by themselves once space is freed"),
        kNoSpaceRetryDelay);
  }
  const std::string message = absl::StrCat(context, ": ", status.ToString());
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kIOError:
    case rocksdb::Status::kShutdownInProgress:
    case rocksdb::Status::kIncomplete:
      return absl::UnavailableError(message);
    case rocksdb::Status::kAborted:
      return absl::AbortedError(message);
    default:
      return absl::InternalError(message);
  }
}

// Counts the stall conditions RocksDB reports for each column family, and
// logs each change: a stall means compaction is not keeping up.
class StallListener final : public rocksdb::EventListener {
 public:
  void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override {
    using rocksdb::WriteStallCondition;
    const WriteStallCondition now = info.condition.cur;
    log::Warning("rocksdb write stall condition changed",
                 {{"column_family", info.cf_name},
                  {"condition", now == WriteStallCondition::kNormal    ? "normal"
                                : now == WriteStallCondition::kDelayed ? "delayed"
                                                                       : "stopped"}});
    MutexLock lock(mu_);
    const bool was_stalled = !stalled_.empty();
    if (now == WriteStallCondition::kNormal) {
      stalled_.erase(info.cf_name);
    } else {
      stalled_[info.cf_name] = now;
      if (now == WriteStallCondition::kDelayed) ++counts_.delayed;
      if (now == WriteStallCondition::kStopped) ++counts_.stopped;
    }
    if (!was_stalled && !stalled_.empty()) stall_start_ = absl::Now();
    if (was_stalled && stalled_.empty()) {
      counts_.stalled_seconds += absl::ToDoubleSeconds(absl::Now() - stall_start_);
    }
  }

  WriteStalls Counts() {
    MutexLock lock(mu_);
    WriteStalls counts = counts_;
    if (!stalled_.empty())
      counts.stalled_seconds += absl::ToDoubleSeconds(absl::Now() - stall_start_);
    return counts;
  }

 private:
  Mutex mu_;
  absl::flat_hash_map<std::string, rocksdb::WriteStallCondition> stalled_ ABSL_GUARDED_BY(mu_);
  absl::Time stall_start_ ABSL_GUARDED_BY(mu_);
  WriteStalls counts_ ABSL_GUARDED_BY(mu_);
};

namespace {

std::string ReasonOf(const rocksdb::Status& error) {
  if (error.IsNoSpace()) return "no_space";
  if (error.IsCorruption()) return "corruption";
  if (error.IsIOError()) return "io_error";
  return "other";
}

absl::string_view ReasonName(rocksdb::BackgroundErrorReason reason) {
  switch (reason) {
    case rocksdb::BackgroundErrorReason::kFlush:
      return "flush";
    case rocksdb::BackgroundErrorReason::kCompaction:
      return "compaction";
    case rocksdb::BackgroundErrorReason::kWriteCallback:
      return "write";
    case rocksdb::BackgroundErrorReason::kMemTable:
      return "memtable";
    case rocksdb::BackgroundErrorReason::kManifestWrite:
      return "manifest write";
    case rocksdb::BackgroundErrorReason::kFlushNoWAL:
      return "flush";
    case rocksdb::BackgroundErrorReason::kManifestWriteNoWAL:
      return "manifest write";
  }
  return "unknown";
}

}  // namespace

// RocksDB's own log, into the service's (warnings and errors only). RocksDB
// would otherwise write a LOG file into the data directory, on the disk that
// may be full: RocksDB 7.8, as Debian builds it (with assertions), aborts
// the process when it logs again after that file's write failed.
class RocksLogger final : public rocksdb::Logger {
 public:
  explicit RocksLogger(std::string path)
      : Logger(rocksdb::InfoLogLevel::WARN_LEVEL), path_(std::move(path)) {}

  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buffer[2048];
    va_list copy;
    va_copy(copy, ap);
    const int length = std::vsnprintf(buffer, sizeof buffer, format, copy);
    va_end(copy);
    if (length < 0) return;
    absl::string_view text(buffer,
                           std::min<size_t>(static_cast<size_t>(length), sizeof buffer - 1));
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    const std::initializer_list<log::Field> fields = {{"path", path_}, {"message", text}};
    switch (level) {
      case rocksdb::InfoLogLevel::DEBUG_LEVEL:
        log::Debug("rocksdb", fields);
        break;
      case rocksdb::InfoLogLevel::WARN_LEVEL:
        log::Warning("rocksdb", fields);
        break;
      case rocksdb::InfoLogLevel::ERROR_LEVEL:
      case rocksdb::InfoLogLevel::FATAL_LEVEL:
        log::Error("rocksdb", fields);
        break;
      default:
        log::Info("rocksdb", fields);
        break;
    }
  }

 private:
  const std::string path_;
};

// Follows RocksDB's background errors, which is where a failed WAL write or
// sync, a full disk or corruption found by a flush or compaction arrive, and
// its recoveries from them. RocksDB calls it with its own mutex released.
class StorageListener final : public rocksdb::EventListener {
 public:
  explicit StorageListener(std::string path) : path_(std::move(path)) {}

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    using Severity = rocksdb::Status::Severity;
    const Severity severity = error->severity();
    if (severity < Severity::kHardError) {
      // Writes go on (e.g. a compaction out of space; it is tried again).
      log::Warning("rocksdb background error; writes go on",
                   {{"path", path_}, {"during", ReasonName(reason)}, {"error", error->ToString()}});
      return;
    }
    // RocksDB recovers by itself from a full disk: its SstFileManager waits
    // for space, then resumes. Anything else that stops writes is taken as
    // final, including retryable I/O errors (the POSIX file system never
    // reports one): the service exits and reopens the database.
    const bool recovers = severity == Severity::kHardError && error->IsNoSpace();
    StorageHealth health{.state = recovers ? StorageState::kRecovering : StorageState::kFailed,
                         .reason = ReasonOf(*error),
                         .error = error->ToString()};
    // Each write refused afterwards is reported again: log the change only.
    const std::string message = recovers
                                    ? "storage refuses writes until it recovers"
                                    : "storage failed: writes are refused until it is reopened";
    const std::string reason_name = health.reason;
    const std::string error_text = health.error;
    if (Set(std::move(health))) {
      log::Error(message, {{"path", path_},
                           {"during", ReasonName(reason)},
                           {"reason", reason_name},
                           {"error", error_text}});
    }
  }

  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (info.new_bg_error.ok()) {
      log::Info("storage recovered; writes are taken again",
                {{"path", path_}, {"error_was", info.old_bg_error.ToString()}});
      {
        MutexLock lock(mu_);
        ++recoveries_.recovered;
      }
      Set(StorageHealth{});
      return;
    }
    log::Error("storage could not recover", {{"path", path_},
                                             {"error_was", info.old_bg_error.ToString()},
                                             {"error", info.new_bg_error.ToString()}});
    {
      MutexLock lock(mu_);
      ++recoveries_.failed;
    }
    Set({.state = StorageState::kFailed,
         .reason = ReasonOf(info.new_bg_error),
         .error = info.new_bg_error.ToString()});
  }

  StorageHealth Health() {
    MutexLock lock(mu_);
    return health_;
  }

  StorageRecoveries Recoveries() {
    MutexLock lock(mu_);
    return recoveries_;
  }

  void Watch(std::function<void(const StorageHealth&)> observer) {
    MutexLock lock(mu_);
    observer_ = std::move(observer);
    if (observer_) observer_(health_);
  }

 private:
  // Whether the state changed.
  bool Set(StorageHealth health) {
    MutexLock lock(mu_);
    // Failed is final: a later recovery report does not undo it.
    if (health_.state == StorageState::kFailed) return false;
    if (health_.state == health.state && health_.reason == health.reason) return false;
    health_ = std::move(health);
    if (observer_) observer_(health_);
    return true;
  }

  const std::string path_;
  Mutex mu_;
  StorageHealth health_ ABSL_GUARDED_BY(mu_);
  StorageRecoveries recoveries_ ABSL_GUARDED_BY(mu_);
  std::function<void(const StorageHealth&)> observer_ ABSL_GUARDED_BY(mu_);
};

namespace {

// The leading bytes of a key: all but its last `suffix` bytes. Keys under one
// prefix share a memtable insert hint (see ColumnFamily).
class StripSuffixTransform final : public rocksdb::SliceTransform {
 public:
  explicit StripSuffixTransform(size_t suffix)
      : suffix_(suffix), name_(absl::StrCat("switchboard.StripSuffix.", suffix)) {}

  const char* Name() const override { return name_.c_str(); }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - suffix_);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= suffix_; }

 private:
  const size_t suffix_;
  const std::string name_;
};

rocksdb::ColumnFamilyOptions FamilyOptions(const DatabaseOptions& options,
                                           const ColumnFamily& hints,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions family;
  if (hints.ascending_suffix_bytes > 0) {
    family.memtable_insert_with_hint_prefix_extractor =
        std::make_shared<StripSuffixTransform>(hints.ascending_suffix_bytes);
  }
  if (hints.lookups_mostly_miss) {
    family.memtable_whole_key_filtering = true;
    family.memtable_prefix_bloom_size_ratio = 0.05;
  }
  family.write_buffer_size = options.tuning.write_buffer_bytes;
  family.max_write_buffer_number = 4;
  family.min_write_buffer_number_to_merge = 1;
  family.level_compaction_dynamic_level_bytes = true;
  family.target_file_size_base = 64 << 20;
  family.max_bytes_for_level_base = 256 << 20;
  // Debian's librocksdb is built with LZ4 and ZSTD.
  family.compression = rocksdb::kLZ4Compression;
  family.bottommost_compression = rocksdb::kZSTD;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  table.block_size = 16 << 10;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return family;
}

}  // namespace

namespace {

// DATA_LOSS for a database found damaged at open, saying what to do.
absl::Status Corrupt(const std::string& path, const rocksdb::Status& status) {
  return absl::DataLossError(absl::StrCat(
      "the database in ", path, " is corrupt (", status.ToString(),
      "); the service cannot start on it. Restore the directory from a backup, or move it aside "
      "to start empty (docs/faults.md, \"Corrupted files\")"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.path, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create data directory ", options.path, ": ", error.message()));
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 4;
  db_options.bytes_per_sync = 1 << 20;
  db_options.max_total_wal_size = 256 << 20;
  db_options.keep_log_file_num = 5;
  db_options.max_manifest_file_size = 64 << 20;
  // Writes come from one commit thread per database (CommitQueue): pipelining
  // lets the next group enter the memtable while the WAL syncs.
  db_options.enable_pipelined_write = true;
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes);
  // A crash mid-write leaves a torn last record in the WAL: it was never
  // acknowledged, and is dropped. Any other damage in the WAL refuses the
  // open. RocksDB's default (kPointInTimeRecovery) would instead open with
  // everything after the damage silently missing: acknowledged writes lost.
  db_options.wal_recovery_mode = options.tuning.wal_point_in_time_recovery
                                     ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
                                     : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  if (options.tuning.wal_point_in_time_recovery) {
    log::Warning(
        "opening with point-in-time WAL recovery: damage in the WAL and every write "
        "after it are dropped",
        {{"path", options.path}});
  }
  // Stop writes at the first failed WAL write or sync rather than go on
  // past a hole. RocksDB's default; pinned because everything above
  // (StorageListener, the service exiting on kFailed) depends on it.
  db_options.paranoid_checks = true;
  std::unique_ptr<rocksdb::Env> env;
  if (options.tuning.file_system != nullptr) {
    env = rocksdb::NewCompositeEnv(options.tuning.file_system);
    db_options.env = env.get();
  }
  db_options.info_log = std::make_shared<RocksLogger>(options.path);
  auto stalls = std::make_shared<StallListener>();
  db_options.listeners.push_back(stalls);
  auto storage = std::make_shared<StorageListener>(options.path);
  db_options.listeners.push_back(storage);

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName,
                           FamilyOptions(options, {rocksdb::kDefaultColumnFamilyName}, cache));
  for (const ColumnFamily& family : options.column_families) {
    descriptors.emplace_back(family.name, FamilyOptions(options, family, cache));
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (status.IsCorruption()) return Corrupt(options.path, status);
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("open database ", options.path));
  }
  auto database = absl::WrapUnique(new Database());
  database->path_ = options.path;
  database->stalls_ = std::move(stalls);
  database->storage_ = std::move(storage);
  database->env_ = std::move(env);
  database->db_.reset(raw);
  for (rocksdb::ColumnFamilyHandle* handle : handles) database->families_.emplace_back(handle);
  if (options.tuning.verify_checksums_on_open) {
    const absl::Time start = absl::Now();
    status = database->db_->VerifyChecksum();
    if (status.IsCorruption()) return Corrupt(options.path, status);
    if (!status.ok()) return FromRocks(status, absl::StrCat("verify database ", options.path));
    log::Info("database checksums verified",
              {{"path", options.path}, {"seconds", absl::ToDoubleSeconds(absl::Now() - start)}});
  }
  log::Info("database open",
            {{"path", options.path}, {"column_families", static_cast<int>(handles.size())}});
  return database;
}

Database::~Database() {
  if (db_ == nullptr) return;
  for (auto& family : families_) {
    rocksdb::Status status = db_->DestroyColumnFamilyHandle(family.release());
    if (!status.ok()) log::Warning("closing column family", {{"error", status.ToString()}});
  }
  rocksdb::Status status = db_->Close();
  if (!status.ok()) log::Warning("closing database", {{"error", status.ToString()}});
}

std::vector<rocksdb::ColumnFamilyHandle*> Database::Families() const {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (const auto& family : families_) handles.push_back(family.get());
  return handles;
}

WriteStalls Database::Stalls() const { return stalls_->Counts(); }

StorageHealth Database::storage() const { return storage_->Health(); }

StorageRecoveries Database::recoveries() const { return storage_->Recoveries(); }

void Database::WatchStorage(std::function<void(const StorageHealth&)> observer) {
  storage_->Watch(std::move(observer));
}

rocksdb::ColumnFamilyHandle* Database::Family(absl::string_view name) const {
  for (const auto& family : families_) {
    if (family->GetName() == name) return family.get();
  }
  log::Error("unknown column family", {{"name", name}});
  std::abort();
}

}  // namespace switchboard
