// Order-preserving key encodings for RocksDB keys: big-endian integers sort
// bytewise in numeric order, so iterators walk them in sequence.
#ifndef SWITCHBOARD_COMMON_KEY_ENCODING_H_
#define SWITCHBOARD_COMMON_KEY_ENCODING_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace switchboard {

// 8 bytes, most significant first.
std::string EncodeFixed64BigEndian(uint64_t value);
void AppendFixed64BigEndian(uint64_t value, std::string& out);

// Reads exactly 8 bytes; false if `bytes` has another length.
bool DecodeFixed64BigEndian(absl::string_view bytes, uint64_t* value);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_KEY_ENCODING_H_
