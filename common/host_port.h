// "host:port" addresses, as flags and push subscriptions give them: a DNS
// name or IPv4 address, or an IPv6 address in brackets, then a port.
//
//   absl::optional<HostPort> listen = ParseHostPort("[::1]:50051");
//   listen->host == "::1", listen->port == 50051
#ifndef SWITCHBOARD_COMMON_HOST_PORT_H_
#define SWITCHBOARD_COMMON_HOST_PORT_H_

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace switchboard {

struct HostPort {
  absl::string_view host;  // without brackets; a view into the parsed text
  int port = 0;            // 0..65535
};

// nullopt unless `address` is a non-empty host (brackets around IPv6), a
// colon and a decimal port in 0..65535.
absl::optional<HostPort> ParseHostPort(absl::string_view address);

// Whether `endpoint` is an address to call: ParseHostPort's form with a
// port in 1..65535 and a host of DNS-name characters, or hex digits, colons
// and dots in brackets.
bool IsValidEndpoint(absl::string_view endpoint);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_HOST_PORT_H_
