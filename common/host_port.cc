#include "common/host_port.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace switchboard {

absl::optional<HostPort> ParseHostPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return absl::nullopt;
  absl::string_view host = address.substr(0, colon);
  const absl::string_view port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      })) {
    return absl::nullopt;
  }
  HostPort parsed;
  if (!absl::SimpleAtoi(port, &parsed.port) || parsed.port > 65535) return absl::nullopt;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return absl::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != absl::string_view::npos) {
    return absl::nullopt;  // an IPv6 address must be in brackets
  }
  if (host.empty()) return absl::nullopt;
  parsed.host = host;
  return parsed;
}

bool IsValidEndpoint(absl::string_view endpoint) {
  const absl::optional<HostPort> parsed = ParseHostPort(endpoint);
  if (!parsed.has_value() || parsed->port < 1) return false;
  const absl::string_view host = parsed->host;
  if (endpoint.front() == '[') {
    return host.size() >= 2 && host.size() <= 45 &&
           std::all_of(host.begin(), host.end(), [](char c) {
             return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
           });
  }
  if (host.size() > 253 || host.front() == '-' || host.front() == '.') return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

}  // namespace switchboard
