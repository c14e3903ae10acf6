#include "services/intake/issue_id.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace switchboard::intake {
namespace {

constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford, lowercase
constexpr absl::string_view kNamePrefix = "issues/";

int DigitValue(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

}  // namespace

bool IsValidIssueId(absl::string_view id) {
  if (id.size() != kIssueIdLength) return false;
  if (DigitValue(id[0]) > 7) return false;  // 130 bits encode 128: the top digit holds 3
  for (char c : id) {
    if (DigitValue(c) < 0) return false;
  }
  return true;
}

absl::string_view IssueIdFromName(absl::string_view name) {
  if (!absl::StartsWith(name, kNamePrefix)) return {};
  absl::string_view id = name.substr(kNamePrefix.size());
  return IsValidIssueId(id) ? id : absl::string_view();
}

std::string IssueName(absl::string_view id) { return absl::StrCat(kNamePrefix, id); }

int IssueIdPartition(absl::string_view id) { return DigitValue(id[10]) * 32 + DigitValue(id[11]); }

int IssuePartitionOf(absl::string_view name, int count) {
  const absl::string_view id = IssueIdFromName(name);
  if (id.empty()) return -1;
  if (count <= 1) return 0;
  const int partition = IssueIdPartition(id);
  return partition < count ? partition : -1;
}

IssueIdGenerator::IssueIdGenerator(Clock& clock, absl::string_view floor, int partition)
    : clock_(clock), partition_(partition) {
  if (!IsValidIssueId(floor)) return;
  // Decode the floor's 130 bits (2 leading zero bits) into last_.
  Bits bits{};
  for (char c : floor) {
    int carry = DigitValue(c);
    for (int i = 15; i >= 0; --i) {
      const int value = bits[i] * 32 + carry;
      bits[i] = static_cast<uint8_t>(value & 0xff);
      carry = value >> 8;
    }
  }
  MutexLock lock(mu_);
  last_ = bits;
}

std::string IssueIdGenerator::Next() {
  const uint64_t millis =
      static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMillis(clock_.Now())));
  MutexLock lock(mu_);
  Bits next{};
  for (int i = 0; i < 6; ++i) next[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  // Bits 79..70 (byte 6 and the top of byte 7): the partition.
  next[6] = static_cast<uint8_t>(partition_ >> 2);
  next[7] =
      static_cast<uint8_t>(((partition_ & 3) << 6) | (absl::Uniform<uint8_t>(random_) & 0x3f));
  for (int i = 8; i < 16; ++i) next[i] = absl::Uniform<uint8_t>(random_);
  if (next <= last_) {
    // Same millisecond, or the clock went back: one more than the last id.
    next = last_;
    for (int i = 15; i >= 0 && ++next[i] == 0; --i) {
    }
  }
  last_ = next;
  return Encode(next);
}

std::string IssueIdGenerator::Encode(const Bits& bits) {
  // 128 bits as 26 base32 digits, most significant first.
  std::string out(kIssueIdLength, '0');
  Bits value = bits;
  for (int digit = static_cast<int>(kIssueIdLength) - 1; digit >= 0; --digit) {
    int remainder = 0;
    for (int i = 0; i < 16; ++i) {
      const int current = remainder * 256 + value[i];
      value[i] = static_cast<uint8_t>(current / 32);
      remainder = current % 32;
    }
    out[digit] = kAlphabet[remainder];
  }
  return out;
}

}  // namespace switchboard::intake
