// Opaque page tokens for list RPCs (AIP-158). A token carries the position
// to resume from, bound to the kind of list and to its query (filter), so a
// token from one query is refused by another instead of silently skipping or
// repeating results. Tokens are tamper-evident: each carries an HMAC-SHA256
// under the service's page-token key, so a token a caller edited or made
// up is refused before its position is looked at.
//
// The key is process-wide: random per process until a service loads its own
// with LoadPageTokenKey(data_dir), which keeps tokens valid across restarts.
//
//   std::string token = EncodePageToken("issues", filter, last_key);
//   ASSIGN_OR_RETURN(std::string position, DecodePageToken(request.page_token(), "issues",
//   filter));
#ifndef SWITCHBOARD_COMMON_PAGE_TOKEN_H_
#define SWITCHBOARD_COMMON_PAGE_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard {

// Uses the key in `data_dir`/page-token.key, creating it (32 random bytes,
// mode 0600) if missing. Call once at start, before serving.
absl::Status LoadPageTokenKey(const std::string& data_dir);

std::string EncodePageToken(absl::string_view kind, absl::string_view query,
                            absl::string_view position);

// The position in `token`. INVALID_ARGUMENT, with a page_token field
// violation, for a token that is malformed, altered, made with another key,
// or made for another kind of list or another query.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view kind,
                                            absl::string_view query);

// Checks page_size: 0 gives `default_size`; negative or above `max_size` is
// INVALID_ARGUMENT with a page_size field violation.
absl::StatusOr<int> PageSize(int requested, int default_size, int max_size);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_PAGE_TOKEN_H_
