#include "common/key_encoding.h"

namespace switchboard {

void AppendFixed64BigEndian(uint64_t value, std::string& out) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((value >> shift) & 0xff));
}

std::string EncodeFixed64BigEndian(uint64_t value) {
  std::string out;
  out.reserve(8);
  AppendFixed64BigEndian(value, out);
  return out;
}

bool DecodeFixed64BigEndian(absl::string_view bytes, uint64_t* value) {
  if (bytes.size() != 8) return false;
  uint64_t result = 0;
  for (unsigned char c : bytes) result = (result << 8) | c;
  *value = result;
  return true;
}

}  // namespace switchboard
