#include "services/routing/ruleset_file.h"

#include <fstream>
#include <sstream>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace switchboard::routing {
namespace {

void AppendQuoted(absl::string_view text, std::string& json) {
  json.push_back('"');
  AppendJsonEscaped(text, json);
  json.push_back('"');
}

// YAML → JSON. Plain scalars that read as booleans or numbers become JSON
// booleans or numbers; quoted scalars and everything else become strings
// (protobuf's JSON parser accepts strings for int64 and Duration fields).
void ToJson(const YAML::Node& node, std::string& json) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json.push_back('{');
      bool first = true;
      for (const auto& entry : node) {
        if (!first) json.push_back(',');
        first = false;
        AppendQuoted(entry.first.Scalar(), json);
        json.push_back(':');
        ToJson(entry.second, json);
      }
      json.push_back('}');
      return;
    }
    case YAML::NodeType::Sequence: {
      json.push_back('[');
      for (size_t i = 0; i < node.size(); ++i) {
        if (i > 0) json.push_back(',');
        ToJson(node[i], json);
      }
      json.push_back(']');
      return;
    }
    case YAML::NodeType::Scalar: {
      const std::string& scalar = node.Scalar();
      if (node.Tag() == "?") {  // plain, unquoted
        if (scalar == "true" || scalar == "false") {
          json.append(scalar);
          return;
        }
        double number;
        if (absl::SimpleAtod(scalar, &number) && !scalar.empty() &&
            (absl::ascii_isdigit(scalar[0]) || scalar[0] == '-')) {
          json.append(scalar);
          return;
        }
      }
      AppendQuoted(scalar, json);
      return;
    }
    default:
      json.append("null");
  }
}

}  // namespace

absl::StatusOr<v1::Ruleset> ParseRulesetText(absl::string_view text) {
  std::string json;
  const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(text);
  if (absl::StartsWith(trimmed, "{")) {
    json = std::string(trimmed);
  } else {
    try {
      const YAML::Node root = YAML::Load(std::string(text));
      if (!root.IsMap()) return absl::InvalidArgumentError("a ruleset file must hold a mapping");
      ToJson(root, json);
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
    }
  }
  v1::Ruleset ruleset;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, &ruleset, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not a Ruleset: ", status.ToString()));
  }
  return ruleset;
}

absl::StatusOr<v1::Ruleset> LoadRulesetFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ruleset file ", path));
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<v1::Ruleset> ruleset = ParseRulesetText(text.str());
  if (!ruleset.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", ruleset.status().message()));
  }
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
