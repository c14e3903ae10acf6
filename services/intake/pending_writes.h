// Values written into batches that are queued for commit but not yet
// durable, by key, so that the next batch is built on them rather than on
// what the store holds. Each value is tagged with its batch; once that batch
// is durable, Forget(batch) drops what it wrote unless a later batch wrote
// the key again. A batch that is never queued (it failed while being built)
// is Abandon()ed instead: what it overwrote comes back. IntakeCore keeps one per kind of record
// it reads back while building batches (problems, windows, customer
// counts), under the lock that orders its commits.
#ifndef SWITCHBOARD_SERVICES_INTAKE_PENDING_WRITES_H_
#define SWITCHBOARD_SERVICES_INTAKE_PENDING_WRITES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace switchboard::intake {

template <typename V>
class PendingWrites {
 public:
  // The newest value queued for `key`, or null when the store has the
  // newest.
  const V* Find(absl::string_view key) const {
    auto found = values_.find(key);
    return found == values_.end() ? nullptr : &found->second.value;
  }

  void Put(std::string key, V value, uint64_t batch) {
    auto found = values_.find(key);
    std::optional<Entry> replaced;
    if (found != values_.end()) replaced = found->second;
    by_batch_[batch].push_back(Write{key, std::move(replaced)});
    values_[std::move(key)] = Entry{std::move(value), batch};
  }

  // Undoes the writes of `batch`, the newest one built, in reverse order.
  void Abandon(uint64_t batch) {
    auto written = by_batch_.extract(batch);
    if (written.empty()) return;
    std::vector<Write>& writes = written.mapped();
    for (auto write = writes.rbegin(); write != writes.rend(); ++write) {
      if (write->replaced.has_value()) {
        values_[write->key] = *write->replaced;
      } else {
        values_.erase(write->key);
      }
    }
  }

  void Forget(uint64_t batch) {
    auto written = by_batch_.extract(batch);
    if (written.empty()) return;
    for (const Write& write : written.mapped()) {
      auto found = values_.find(write.key);
      if (found != values_.end() && found->second.batch == batch) values_.erase(found);
    }
  }

  bool empty() const { return values_.empty(); }

 private:
  struct Entry {
    V value;
    uint64_t batch;
  };
  struct Write {
    std::string key;
    std::optional<Entry> replaced;  // the queued value it overwrote
  };
  absl::flat_hash_map<std::string, Entry> values_;
  absl::flat_hash_map<uint64_t, std::vector<Write>> by_batch_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_PENDING_WRITES_H_
