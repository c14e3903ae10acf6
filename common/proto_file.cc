#include "common/proto_file.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace switchboard {
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

absl::Status ParseJsonOrYaml(absl::string_view text, google::protobuf::Message& message) {
  std::string json;
  const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(text);
  if (absl::StartsWith(trimmed, "{")) {
    json = std::string(trimmed);
  } else {
    try {
      const YAML::Node root = YAML::Load(std::string(text));
      if (!root.IsMap()) return absl::InvalidArgumentError("the file must hold a mapping");
      ToJson(root, json);
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
    }
  }
  message.Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (auto status = google::protobuf::util::JsonStringToMessage(json, &message, options);
      !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", message.GetDescriptor()->name(), ": ", status.ToString()));
  }
  return absl::OkStatus();
}

absl::Status LoadJsonOrYamlFile(const std::string& path, google::protobuf::Message& message) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream file(path);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
    text << file.rdbuf();
  }
  if (absl::Status status = ParseJsonOrYaml(text.str(), message); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace switchboard
