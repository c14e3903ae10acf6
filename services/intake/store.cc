#include "services/intake/store.h"

#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "common/status.h"

namespace switchboard::intake {
std::vector<ColumnFamily> IntakeStore::ColumnFamilies() {
  std::vector<ColumnFamily> families = IssueStore::ColumnFamilies();
  families.push_back(Outbox::Family(kRouteQueue));
  families.push_back(Outbox::Family(kEventQueue));
  return families;
}

absl::StatusOr<std::unique_ptr<IntakeStore>> IntakeStore::Open(const Options& options, Clock& clock,
                                                               prometheus::Registry* registry) {
  auto store = absl::WrapUnique(new IntakeStore());
  ASSIGN_OR_RETURN(store->db_,
                   Database::Open({.path = options.path, .column_families = ColumnFamilies()}));
  store->commits_ = std::make_unique<CommitQueue>(
      store->db_->db(), CommitQueue::Options{.name = "intake", .sync = options.sync}, registry);
  store->issues_ = std::make_unique<IssueStore>(*store->db_);
  ASSIGN_OR_RETURN(store->route_tasks_, Outbox::Open(*store->db_, kRouteQueue, clock));
  ASSIGN_OR_RETURN(store->events_, Outbox::Open(*store->db_, kEventQueue, clock));
  return store;
}

IntakeStore::~IntakeStore() {
  if (commits_ != nullptr) commits_->Stop();
}

}  // namespace switchboard::intake
