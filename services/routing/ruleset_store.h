// The routing service's RocksDB schema: every applied revision, kept
// forever, and which one is active.
//
//   column family "rulesets": fixed64 big-endian revision → Ruleset
//   column family "meta":     "active_revision" → fixed64 big-endian revision
#ifndef SWITCHBOARD_SERVICES_ROUTING_RULESET_STORE_H_
#define SWITCHBOARD_SERVICES_ROUTING_RULESET_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "common/commit_queue.h"
#include "common/rocks.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

class RulesetStore {
 public:
  // The column families Database::Open must create for this store.
  static std::vector<ColumnFamily> ColumnFamilies();

  RulesetStore(Database& db, CommitQueue& commits) : db_(db), commits_(commits) {}

  // The active ruleset, or nullopt when none was ever applied. DATA_LOSS if
  // the pointer names a revision that is not stored or does not parse.
  absl::StatusOr<absl::optional<v1::Ruleset>> LoadActive() const;

  // One revision. NOT_FOUND if it was never stored.
  absl::StatusOr<v1::Ruleset> Get(int64_t revision) const;

  // Up to `limit` revisions below `before` (0: from the newest), newest first.
  absl::StatusOr<std::vector<v1::Ruleset>> ListBefore(int64_t before, int limit) const;

  // Stores `ruleset` (its revision set) and makes it the active one, in one
  // synced batch; blocks until it is durable (the applier's thread only).
  absl::Status SaveActive(const v1::Ruleset& ruleset);

 private:
  Database& db_;
  CommitQueue& commits_;
};

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_RULESET_STORE_H_
