// Protobuf messages in files people write: protobuf JSON (text starting with
// "{") or YAML with the same field names, e.g. a ruleset
//
//   business_groups:
//     - id: cloud
//       teams: [{id: storage}]
//   default_target: {business_group: cloud, team: storage}
//
// Unknown fields are errors, so a typo never silently drops a setting.
#ifndef SWITCHBOARD_COMMON_PROTO_FILE_H_
#define SWITCHBOARD_COMMON_PROTO_FILE_H_

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace switchboard {

// Parses `text` into `message` (cleared first) as JSON if it starts with
// "{", else as YAML whose top level is a mapping. INVALID_ARGUMENT with the
// parser's message for anything else.
absl::Status ParseJsonOrYaml(absl::string_view text, google::protobuf::Message& message);

// Reads `path` ("-" is stdin) and parses it. NOT_FOUND if it cannot be read;
// INVALID_ARGUMENT naming the file if it does not parse.
absl::Status LoadJsonOrYamlFile(const std::string& path, google::protobuf::Message& message);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_PROTO_FILE_H_
