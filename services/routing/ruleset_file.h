// Rulesets in files: protobuf JSON or YAML with the same field names (see
// common/proto_file.h). Unknown fields are errors, so a typo never silently
// drops a rule.
#ifndef SWITCHBOARD_SERVICES_ROUTING_RULESET_FILE_H_
#define SWITCHBOARD_SERVICES_ROUTING_RULESET_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

// Parses `text` as JSON if it starts with "{", else as YAML. INVALID_ARGUMENT
// with the parser's message for anything else.
absl::StatusOr<v1::Ruleset> ParseRulesetText(absl::string_view text);

// Reads and parses a file. NOT_FOUND if it cannot be read.
absl::StatusOr<v1::Ruleset> LoadRulesetFile(const std::string& path);

// Whether two rulesets say the same, ignoring output-only fields (revision,
// author, create_time).
bool SameRules(const v1::Ruleset& a, const v1::Ruleset& b);

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_RULESET_FILE_H_
