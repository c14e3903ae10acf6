// Decoding what comes back from storage or from callers as keys and names:
// big-endian sequence keys, outbox keys, intake's timer keys and request records, issue
// names and ids, page tokens. Never a crash; what decodes must encode back
// to the same bytes.
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/key_encoding.h"
#include "common/outbox.h"
#include "common/page_token.h"
#include "services/intake/issue_id.h"
#include "services/intake/issue_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  uint64_t value;
  if (switchboard::DecodeFixed64BigEndian(bytes, &value) &&
      switchboard::EncodeFixed64BigEndian(value) != bytes) {
    __builtin_trap();
  }
  if (auto timer = switchboard::intake::DecodeTimerKey(bytes); timer.ok()) {
    const auto nanos = static_cast<uint64_t>(absl::ToUnixNanos(timer->deadline));
    if (absl::StrCat(switchboard::EncodeFixed64BigEndian(nanos), timer->issue_id) != bytes) {
      __builtin_trap();
    }
  }
  if (auto item = switchboard::DecodeOutboxKey(bytes); item.ok()) {
    if (switchboard::EncodeFixed64BigEndian(item->sequence) != bytes.substr(0, 8)) __builtin_trap();
    if (bytes.size() == 16 && switchboard::EncodeFixed64BigEndian(static_cast<uint64_t>(
                                  absl::ToUnixNanos(item->append_time))) != bytes.substr(8)) {
      __builtin_trap();
    }
  }
  if (auto record = switchboard::intake::DecodeRequestRecord(bytes); record.ok()) {
    if (!switchboard::intake::IsValidIssueId(record->issue_id)) __builtin_trap();
  }
  const absl::string_view id = switchboard::intake::IssueIdFromName(bytes);
  if (!id.empty()) {
    if (!switchboard::intake::IsValidIssueId(id)) __builtin_trap();
    if (switchboard::intake::IssueName(id) != bytes) __builtin_trap();
  }
  auto position = switchboard::DecodePageToken(bytes, "issues", "");
  if (position.ok()) {
    // Only this process's key makes valid tokens: the fuzzer cannot forge one
    // except by finding an HMAC collision.
    __builtin_trap();
  }
  return 0;
}
