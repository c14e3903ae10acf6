#include "common/page_token.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fingerprint.h"
#include "common/status.h"

namespace switchboard {
namespace {

constexpr absl::string_view kVersion = "v1";

absl::Status InvalidToken(absl::string_view why) {
  return InvalidArgumentWithViolations(absl::StrCat("invalid page_token: ", why),
                                       {{"page_token", std::string(why)}});
}

}  // namespace

std::string EncodePageToken(absl::string_view kind, absl::string_view query,
                            absl::string_view position) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kVersion, "\n", kind, "\n", Fingerprint(query), "\n", position));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view kind,
                                            absl::string_view query) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return InvalidToken("not a page token");
  std::vector<absl::string_view> parts = absl::StrSplit(raw, absl::MaxSplits('\n', 3));
  uint64_t fingerprint;
  if (parts.size() != 4 || parts[0] != kVersion || !absl::SimpleAtoi(parts[2], &fingerprint)) {
    return InvalidToken("not a page token");
  }
  if (parts[1] != kind) return InvalidToken("made for another list");
  if (fingerprint != Fingerprint(query)) return InvalidToken("made for another filter");
  return std::string(parts[3]);
}

absl::StatusOr<int> PageSize(int requested, int default_size, int max_size) {
  if (requested == 0) return default_size;
  if (requested < 0 || requested > max_size) {
    return InvalidArgumentWithViolations(
        absl::StrCat("page_size must be between 0 and ", max_size),
        {{"page_size", absl::StrCat("must be between 0 and ", max_size, ", got ", requested)}});
  }
  return requested;
}

}  // namespace switchboard
