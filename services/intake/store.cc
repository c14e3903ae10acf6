#include "services/intake/store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <rocksdb/db.h>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/partition.h"
#include "common/status.h"

namespace switchboard::intake {
std::string IntakeStore::EventQueueName(int partition) {
  return partition == 0 ? std::string(kEventQueue) : absl::StrCat(kEventQueue, "_", partition);
}

std::string IntakeStore::MailQueueName(int partition) {
  return absl::StrCat(kMailQueue, partition);
}

std::vector<ColumnFamily> IntakeStore::ColumnFamilies(int notification_partitions,
                                                      int intake_partitions) {
  std::vector<ColumnFamily> families = IssueStore::ColumnFamilies();
  for (ColumnFamily& family : ProblemStore::ColumnFamilies()) families.push_back(std::move(family));
  families.push_back(Outbox::Family(kRouteQueue));
  for (int partition = 0; partition < std::max(1, notification_partitions); ++partition) {
    families.push_back(Outbox::Family(EventQueueName(partition)));
  }
  for (int partition = 0; partition < std::max(1, intake_partitions); ++partition) {
    families.push_back(Outbox::Family(MailQueueName(partition)));
  }
  return families;
}

namespace {

constexpr char kMailRunKey[] = "mail_run";
constexpr char kMailFromKey[] = "mail_from/";

// Reads the last run's number and records this run's, one more, durably.
absl::StatusOr<uint64_t> NextMailRun(Database& db) {
  std::string value;
  const rocksdb::Status read =
      db.db().Get(rocksdb::ReadOptions(), db.Family("default"), kMailRunKey, &value);
  uint64_t run = 0;
  if (!read.IsNotFound()) {
    RETURN_IF_ERROR(FromRocks(read, "read the mail run"));
    if (!absl::SimpleAtoi(value, &run)) {
      return absl::DataLossError(absl::StrCat("the mail run (\"", value, "\") is corrupt"));
    }
  }
  // Also past the start time, so that a database restored from a backup
  // (whose stored run is behind what receivers have seen) still counts up.
  run = std::max(run + 1, static_cast<uint64_t>(absl::ToUnixMicros(absl::Now())));
  rocksdb::WriteOptions options;
  options.sync = true;
  RETURN_IF_ERROR(
      FromRocks(db.db().Put(options, db.Family("default"), kMailRunKey, absl::StrCat(run)),
                "record the mail run"));
  return run;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IntakeStore>> IntakeStore::Open(const Options& options, Clock& clock,
                                                               prometheus::Registry* registry) {
  auto store = absl::WrapUnique(new IntakeStore());
  std::vector<ColumnFamily> families =
      ColumnFamilies(options.notification_partitions, options.partitioning.count());
  // A store first started with more partitions has more mail outboxes; they
  // must be opened too, so that CheckPartitionRecord can say what is wrong.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options.path, &existing).ok()) {
    for (const std::string& name : existing) {
      const bool listed = std::any_of(families.begin(), families.end(),
                                      [&](const ColumnFamily& f) { return f.name == name; });
      if (!listed && absl::StartsWith(name, kMailQueue)) families.push_back(Outbox::Family(name));
    }
  }
  ASSIGN_OR_RETURN(store->db_, Database::Open({.path = options.path,
                                               .column_families = std::move(families),
                                               .tuning = options.tuning}));
  RETURN_IF_ERROR(CheckPartitionRecord(*store->db_, options.partitioning, "intake"));
  store->partition_ = options.partitioning.self;
  ASSIGN_OR_RETURN(store->mail_run_, NextMailRun(*store->db_));
  store->commits_ = std::make_unique<CommitQueue>(
      store->db_->db(),
      CommitQueue::Options{.name = "intake", .sync = options.sync, .capacity = options.capacity},
      registry);
  store->issues_ = std::make_unique<IssueStore>(*store->db_);
  store->problems_ = std::make_unique<ProblemStore>(*store->db_);
  ASSIGN_OR_RETURN(store->route_tasks_, Outbox::Open(*store->db_, kRouteQueue, clock));
  for (int partition = 0; partition < std::max(1, options.notification_partitions); ++partition) {
    ASSIGN_OR_RETURN(std::unique_ptr<Outbox> events,
                     Outbox::Open(*store->db_, EventQueueName(partition), clock));
    store->events_.push_back(std::move(events));
  }
  for (int partition = 0; partition < options.partitioning.count(); ++partition) {
    ASSIGN_OR_RETURN(std::unique_ptr<Outbox> mail,
                     Outbox::Open(*store->db_, MailQueueName(partition), clock));
    store->mail_.push_back(std::move(mail));
  }
  return store;
}

void IntakeStore::AppendEvent(const issue::v1::IssueEvent& event, rocksdb::WriteBatch& batch) {
  const int partitions = event_partitions();
  if (partitions == 1) {
    events_[0]->Append(event.SerializeAsString(), batch);
    return;
  }
  std::vector<std::vector<const std::string*>> recipients(partitions);
  for (const std::string& recipient : event.recipients()) {
    recipients[PartitionOf(recipient, partitions)].push_back(&recipient);
  }
  issue::v1::IssueEvent part = event;
  for (int partition = 0; partition < partitions; ++partition) {
    if (recipients[partition].empty()) continue;
    part.clear_recipients();
    for (const std::string* recipient : recipients[partition]) part.add_recipients(*recipient);
    events_[partition]->Append(part.SerializeAsString(), batch);
  }
}

absl::StatusOr<MailPosition> IntakeStore::MailFrom(int sender) const {
  std::string value;
  const rocksdb::Status read = db_->db().Get(rocksdb::ReadOptions(), db_->Family("default"),
                                             absl::StrCat(kMailFromKey, sender), &value);
  if (read.IsNotFound()) return MailPosition{};
  RETURN_IF_ERROR(FromRocks(read, "read where a partition's mail stands"));
  MailPosition position;
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(value, ':');
  if (!absl::SimpleAtoi(parts.first, &position.run) ||
      !absl::SimpleAtoi(parts.second, &position.sequence)) {
    return absl::DataLossError(
        absl::StrCat("the mail position of partition ", sender, " (\"", value, "\") is corrupt"));
  }
  return position;
}

void IntakeStore::PutMailFrom(int sender, const MailPosition& position,
                              rocksdb::WriteBatch& batch) {
  batch.Put(db_->Family("default"), absl::StrCat(kMailFromKey, sender),
            absl::StrCat(position.run, ":", position.sequence));
}

void IntakeStore::RingMail() {
  for (const std::unique_ptr<Outbox>& mail : mail_) mail->doorbell().Ring();
}

void IntakeStore::RingEvents() {
  for (const std::unique_ptr<Outbox>& events : events_) events->doorbell().Ring();
}

IntakeStore::~IntakeStore() {
  if (commits_ != nullptr) commits_->Stop();
}

}  // namespace switchboard::intake
