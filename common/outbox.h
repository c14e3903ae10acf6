// An outbox: work that must leave a service (route an issue, publish an
// event), written into the same WriteBatch as the state change that caused
// it, so that the two are durable together or not at all. One loop drains
// each outbox in order, calls out, and removes what it has handed on, again
// in the batch that records the outcome.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Outbox> events, Outbox::Open(db, "event_queue", clock));
//   // producer, under the lock that orders its commits:
//   events->Append(event.SerializeAsString(), batch);
//   commits.Commit(std::move(batch), [&](absl::Status s) { if (s.ok()) events->doorbell().Ring();
//   });
//   // consumer, on its own thread:
//   ASSIGN_OR_RETURN(std::vector<Outbox::Item> items, events->Peek(500));
//   ... hand them on ...; for (auto& item : items) events->Remove(item, batch);
//   RETURN_IF_ERROR(commits.CommitAndWait(std::move(batch)));
//   events->Consumed(items.back().sequence);
//
// Keys are a big-endian sequence followed by the append time (Unix ns), so
// an outbox is read in append order and knows the age of its oldest item.
// Keys of 8 bytes (stores written before the time was added) are read with
// an unknown append time, counted as "now".
#ifndef SWITCHBOARD_COMMON_OUTBOX_H_
#define SWITCHBOARD_COMMON_OUTBOX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/write_batch.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/rocks.h"
#include "common/worker_loop.h"

namespace switchboard {

class Outbox {
 public:
  struct Item {
    uint64_t sequence = 0;
    absl::Time append_time;
    std::string key;  // as stored, for Remove()
    std::string value;
  };

  struct Backlog {
    int64_t size = 0;  // about how many items (RocksDB's estimate; cheap)
    absl::Duration oldest_age = absl::ZeroDuration();
  };

  // The column family an outbox named `name` keeps its items in; list it in
  // the service's DatabaseOptions::column_families.
  static ColumnFamily Family(std::string name);

  // Reads where the sequence stands: after the last item stored (an outbox
  // drained empty starts over, as nothing is left to confuse a sequence
  // with). DATA_LOSS if a stored key is corrupt.
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(Database& db, std::string name, Clock& clock);

  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  const std::string& name() const { return name_; }

  // Adds `value` to `batch` under the next sequence and returns it. Items
  // are read in sequence order, so producers must queue their batches in the
  // order of their Append() calls (append and commit under one lock).
  uint64_t Append(absl::string_view value, rocksdb::WriteBatch& batch);

  // Adds the removal of `item` to `batch`.
  void Remove(const Item& item, rocksdb::WriteBatch& batch) const;

  // The first `limit` items not yet Consumed(), in order. Reading starts
  // after the last consumed sequence, so the tombstones of removed items
  // are skipped by a seek instead of stepped over.
  absl::StatusOr<std::vector<Item>> Peek(int limit) const;

  // The consumer's removal of every item up to `sequence` is durable.
  void Consumed(uint64_t sequence);

  // The backlog now: its size and the age of its oldest unconsumed item.
  absl::StatusOr<Backlog> Measure() const;

  // Rung by producers once appended items are durable; the consumer's
  // WorkerLoop waits on it.
  Doorbell& doorbell() { return doorbell_; }

 private:
  Outbox(Database& db, std::string name, Clock& clock, uint64_t next_sequence);

  Database& db_;
  const std::string name_;
  rocksdb::ColumnFamilyHandle* const family_;
  Clock& clock_;
  std::atomic<uint64_t> next_sequence_;
  // One past the last consumed sequence: where Peek() starts.
  std::atomic<uint64_t> read_from_{0};
  Doorbell doorbell_;
};

// Decodes a stored outbox key. DATA_LOSS for bytes no version wrote.
absl::StatusOr<Outbox::Item> DecodeOutboxKey(absl::string_view key);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_OUTBOX_H_
