#include "common/outbox.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status.h"

namespace switchboard {

ColumnFamily Outbox::Family(std::string name) {
  // Sequences grow with every append: a queue's insert pattern.
  return ColumnFamily(std::move(name), /*suffix_bytes=*/16);
}

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(Database& db, std::string name, Clock& clock) {
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator({}, db.Family(name)));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), absl::StrCat("read the ", name, " outbox")));
  uint64_t next = 1;
  if (it->Valid()) {
    ASSIGN_OR_RETURN(const Item last,
                     DecodeOutboxKey(absl::string_view(it->key().data(), it->key().size())));
    next = last.sequence + 1;
  }
  return absl::WrapUnique(new Outbox(db, std::move(name), clock, next));
}

Outbox::Outbox(Database& db, std::string name, Clock& clock, uint64_t next_sequence)
    : db_(db),
      name_(std::move(name)),
      family_(db.Family(name_)),
      clock_(clock),
      next_sequence_(next_sequence) {}

uint64_t Outbox::Append(absl::string_view value, rocksdb::WriteBatch& batch) {
  const uint64_t sequence = next_sequence_.fetch_add(1);
  std::string key = EncodeFixed64BigEndian(sequence);
  AppendFixed64BigEndian(
      static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixNanos(clock_.Now()))), key);
  batch.Put(family_, key, rocksdb::Slice(value.data(), value.size()));
  return sequence;
}

void Outbox::Remove(const Item& item, rocksdb::WriteBatch& batch) const {
  batch.Delete(family_, item.key);
}

absl::StatusOr<std::vector<Outbox::Item>> Outbox::Peek(int limit) const {
  std::vector<Item> items;
  const std::string start = EncodeFixed64BigEndian(read_from_.load());
  const rocksdb::Slice lower_bound(start);
  rocksdb::ReadOptions options;
  options.iterate_lower_bound = &lower_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator(options, family_));
  for (it->Seek(lower_bound); it->Valid() && static_cast<int>(items.size()) < limit; it->Next()) {
    ASSIGN_OR_RETURN(Item item,
                     DecodeOutboxKey(absl::string_view(it->key().data(), it->key().size())));
    if (item.append_time == absl::InfinitePast()) item.append_time = clock_.Now();
    item.value = it->value().ToString();
    items.push_back(std::move(item));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), absl::StrCat("read the ", name_, " outbox")));
  return items;
}

void Outbox::Consumed(uint64_t sequence) {
  uint64_t from = read_from_.load();
  while (sequence + 1 > from && !read_from_.compare_exchange_weak(from, sequence + 1)) {
  }
}

absl::StatusOr<Outbox::Backlog> Outbox::Measure() const {
  ASSIGN_OR_RETURN(const std::vector<Item> first, Peek(1));
  Backlog backlog;
  if (first.empty()) return backlog;
  uint64_t keys = 0;
  db_.db().GetIntProperty(family_, "rocksdb.estimate-num-keys", &keys);
  // The estimate counts deletions not yet compacted away either way; an
  // outbox with an item in it holds at least one.
  backlog.size = std::max<int64_t>(1, static_cast<int64_t>(keys));
  backlog.oldest_age = std::max(absl::ZeroDuration(), clock_.Now() - first.front().append_time);
  return backlog;
}

absl::StatusOr<Outbox::Item> DecodeOutboxKey(absl::string_view key) {
  Outbox::Item item;
  uint64_t nanos = 0;
  if ((key.size() != 8 && key.size() != 16) ||
      !DecodeFixed64BigEndian(key.substr(0, 8), &item.sequence) ||
      (key.size() == 16 && (!DecodeFixed64BigEndian(key.substr(8), &nanos) ||
                            nanos > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))) {
    return absl::DataLossError("an outbox key is corrupt");
  }
  item.append_time =
      key.size() == 16 ? absl::FromUnixNanos(static_cast<int64_t>(nanos)) : absl::InfinitePast();
  item.key = std::string(key);
  return item;
}

}  // namespace switchboard
