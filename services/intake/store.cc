#include "services/intake/store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/partition.h"
#include "common/status.h"

namespace switchboard::intake {
std::string IntakeStore::EventQueueName(int partition) {
  return partition == 0 ? std::string(kEventQueue) : absl::StrCat(kEventQueue, "_", partition);
}

std::vector<ColumnFamily> IntakeStore::ColumnFamilies(int notification_partitions) {
  std::vector<ColumnFamily> families = IssueStore::ColumnFamilies();
  families.push_back(Outbox::Family(kRouteQueue));
  for (int partition = 0; partition < std::max(1, notification_partitions); ++partition) {
    families.push_back(Outbox::Family(EventQueueName(partition)));
  }
  return families;
}

absl::StatusOr<std::unique_ptr<IntakeStore>> IntakeStore::Open(const Options& options, Clock& clock,
                                                               prometheus::Registry* registry) {
  auto store = absl::WrapUnique(new IntakeStore());
  ASSIGN_OR_RETURN(
      store->db_,
      Database::Open({.path = options.path,
                      .column_families = ColumnFamilies(options.notification_partitions)}));
  RETURN_IF_ERROR(CheckPartitionRecord(*store->db_, options.partitioning, "intake"));
  store->partition_ = options.partitioning.self;
  store->commits_ = std::make_unique<CommitQueue>(
      store->db_->db(),
      CommitQueue::Options{.name = "intake", .sync = options.sync, .capacity = options.capacity},
      registry);
  store->issues_ = std::make_unique<IssueStore>(*store->db_);
  ASSIGN_OR_RETURN(store->route_tasks_, Outbox::Open(*store->db_, kRouteQueue, clock));
  for (int partition = 0; partition < std::max(1, options.notification_partitions); ++partition) {
    ASSIGN_OR_RETURN(std::unique_ptr<Outbox> events,
                     Outbox::Open(*store->db_, EventQueueName(partition), clock));
    store->events_.push_back(std::move(events));
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

void IntakeStore::RingEvents() {
  for (const std::unique_ptr<Outbox>& events : events_) events->doorbell().Ring();
}

IntakeStore::~IntakeStore() {
  if (commits_ != nullptr) commits_->Stop();
}

}  // namespace switchboard::intake
