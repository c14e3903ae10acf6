// UTF-8 checks used by validation and by the JSON log writer.
#ifndef SWITCHBOARD_COMMON_UTF8_H_
#define SWITCHBOARD_COMMON_UTF8_H_

#include <cstddef>
#include <string>
#include "absl/strings/string_view.h"

namespace switchboard {

// Well-formed UTF-8: no overlong forms, surrogates or code points > U+10FFFF.
bool IsValidUtf8(absl::string_view text);

// The number of code points in valid UTF-8 `text`.
size_t Utf8Length(absl::string_view text);

// At most `max_bytes` of `text`, cut before a continuation byte so that
// valid UTF-8 stays valid.
absl::string_view TruncateUtf8(absl::string_view text, size_t max_bytes);

// Appends `text` to `out` as the inside of a JSON string literal. Invalid
// UTF-8 bytes become U+FFFD, so the result is always valid JSON.
void AppendJsonEscaped(absl::string_view text, std::string& out);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_UTF8_H_
