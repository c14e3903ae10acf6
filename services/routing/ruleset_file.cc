#include "services/routing/ruleset_file.h"

#include <google/protobuf/util/message_differencer.h>

#include "common/proto_file.h"

namespace switchboard::routing {

absl::StatusOr<v1::Ruleset> ParseRulesetText(absl::string_view text) {
  v1::Ruleset ruleset;
  if (absl::Status status = ParseJsonOrYaml(text, ruleset); !status.ok()) return status;
  return ruleset;
}

absl::StatusOr<v1::Ruleset> LoadRulesetFile(const std::string& path) {
  v1::Ruleset ruleset;
  if (absl::Status status = LoadJsonOrYamlFile(path, ruleset); !status.ok()) return status;
  return ruleset;
}

bool SameRules(const v1::Ruleset& a, const v1::Ruleset& b) {
  v1::Ruleset left = a;
  v1::Ruleset right = b;
  for (v1::Ruleset* ruleset : {&left, &right}) {
    ruleset->clear_revision();
    ruleset->clear_author();
    ruleset->clear_create_time();
  }
  return google::protobuf::util::MessageDifferencer::Equals(left, right);
}

}  // namespace switchboard::routing
