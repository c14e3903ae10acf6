#include "services/routing/correlation.h"

#include <algorithm>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fingerprint.h"
#include "common/proto_time.h"

namespace switchboard::routing {
namespace {

using issue::v1::Issue;

constexpr absl::string_view kTitleFingerprint = "title.fingerprint";

// Appends `text` with '%', '|', '=' and control bytes as %XX, so that the
// parts of a key cannot run into each other.
void AppendEscaped(absl::string_view text, std::string& out) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '%' || c == '|' || c == '=' || byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "%%%02X", byte);
    } else {
      out.push_back(c);
    }
  }
}

bool IsHexWord(absl::string_view word) {
  return std::all_of(word.begin(), word.end(),
                     [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); });
}

bool HasDigit(absl::string_view word) {
  return std::any_of(word.begin(), word.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// One word of a title, normalised: an id-like hex word is "#", and every run
// of digits in any other word is "#".
std::string NormaliseWord(absl::string_view word) {
  if (word.size() >= 6 && IsHexWord(word) && HasDigit(word)) return "#";
  std::string out;
  for (size_t i = 0; i < word.size(); ++i) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(word[i]))) {
      if (out.empty() || out.back() != '#') out.push_back('#');
    } else {
      out.push_back(word[i]);
    }
  }
  return out;
}

// How many bytes at the start of `text` separate words: an ASCII byte that
// is not a letter or digit, a Latin-1 punctuation or symbol (U+00A0..U+00BF),
// or a character of the General Punctuation block (U+2000..U+206F); else 0.
size_t SeparatorBytes(absl::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  if (byte(0) < 0x80) return absl::ascii_isalnum(byte(0)) ? 0 : 1;
  if (text.size() >= 2 && byte(0) == 0xC2 && byte(1) >= 0xA0 && byte(1) <= 0xBF) return 2;
  if (text.size() >= 3 && byte(0) == 0xE2 &&
      (byte(1) == 0x80 || (byte(1) == 0x81 && byte(2) <= 0xAF))) {
    return 3;
  }
  return 0;
}

constexpr size_t kUuidLength = 36;

// Whether a UUID (8-4-4-4-12 hex digits) starts at `at` and is a whole word.
bool IsUuidAt(absl::string_view text, size_t at) {
  if (text.size() - at < kUuidLength) return false;
  for (size_t k = 0; k < kUuidLength; ++k) {
    const char c = text[at + k];
    const bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? c != '-' : !absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return at + kUuidLength == text.size() || SeparatorBytes(text.substr(at + kUuidLength)) > 0;
}

}  // namespace

std::string KeyField::Name() const {
  return title_fingerprint ? std::string(kTitleFingerprint) : field.Name();
}

absl::optional<KeyField> ParseKeyField(absl::string_view name) {
  if (name == kTitleFingerprint) return KeyField{FieldRef{FieldId::kTitle, ""}, true};
  absl::optional<FieldRef> field = ParseField(name);
  if (!field.has_value() || field->id == FieldId::kTitle || field->id == FieldId::kDescription) {
    return absl::nullopt;
  }
  return KeyField{*std::move(field), false};
}

std::string TitleFingerprint(absl::string_view title) {
  // Words are runs of ASCII letters and digits and of non-ASCII UTF-8
  // (letters of other scripts), except Latin-1 punctuation and symbols, the
  // no-break space and the General Punctuation block (curly quotes, dashes,
  // ellipses), which separate words like ASCII punctuation does. A UUID is
  // one "#", and a run of "#" words is one "#".
  std::string normalised;
  size_t i = 0;
  while (i < title.size()) {
    if (const size_t separator = SeparatorBytes(title.substr(i)); separator > 0) {
      i += separator;
      continue;
    }
    std::string word;
    if (IsUuidAt(title, i)) {
      word = "#";
      i += kUuidLength;
    } else {
      size_t end = i;
      while (end < title.size() && SeparatorBytes(title.substr(end)) == 0) ++end;
      word = NormaliseWord(absl::AsciiStrToLower(title.substr(i, end - i)));
      i = end;
    }
    if (word == "#" && absl::EndsWith(normalised, "#") &&
        (normalised.size() == 1 || normalised[normalised.size() - 2] == ' ')) {
      continue;
    }
    if (!normalised.empty()) normalised.push_back(' ');
    normalised += word;
  }
  if (normalised.empty()) return "";
  return absl::StrFormat("%016x", Fingerprint(normalised));
}

CompiledCorrelation::CompiledCorrelation(const v1::Ruleset& ruleset, RoutingMetrics* metrics) {
  policies_.reserve(ruleset.correlation_policies_size());
  for (const v1::CorrelationPolicy& proto : ruleset.correlation_policies()) {
    Policy& policy = policies_.emplace_back();
    policy.proto = &proto;
    for (const std::string& name : proto.key_fields())
      policy.fields.push_back(*ParseKeyField(name));
    policy.rules.insert(proto.rules().begin(), proto.rules().end());
    policy.groups.insert(proto.business_groups().begin(), proto.business_groups().end());
    if (metrics != nullptr) policy.matches = &metrics->CorrelationMatches(proto.id());
  }
}

absl::optional<v1::CorrelationMatch> CompiledCorrelation::Match(
    const Issue& issue, const v1::RoutingDecision& decision) const {
  for (const Policy& policy : policies_) {
    if (!policy.rules.empty() && !policy.rules.contains(decision.rule())) continue;
    if (!policy.groups.empty() && !policy.groups.contains(decision.target().business_group())) {
      continue;
    }
    std::string key;
    AppendEscaped(policy.proto->id(), key);
    bool complete = true;
    for (const KeyField& field : policy.fields) {
      std::string fingerprint;
      absl::string_view value;
      if (field.title_fingerprint) {
        fingerprint = TitleFingerprint(issue.title());
        value = fingerprint;
      } else {
        value = FieldValue(issue, field.field);
      }
      if (value.empty()) {
        complete = false;
        break;
      }
      key.push_back('|');
      key += field.Name();
      key.push_back('=');
      AppendEscaped(value, key);
    }
    if (!complete || key.size() > kMaxCorrelationKeyBytes) continue;
    if (policy.matches != nullptr) policy.matches->Increment();
    v1::CorrelationMatch match;
    match.set_policy(policy.proto->id());
    match.set_key(std::move(key));
    *match.mutable_window() = policy.proto->window();
    if (policy.proto->has_escalation()) *match.mutable_escalation() = policy.proto->escalation();
    return match;
  }
  return absl::nullopt;
}

std::vector<v1::CorrelationGroup> GroupIntoProblems(
    const std::vector<const Issue*>& issues,
    const std::vector<absl::optional<v1::CorrelationMatch>>& matches,
    const std::vector<absl::Time>& create_times) {
  std::vector<size_t> order(issues.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return create_times[a] < create_times[b]; });

  struct Open {
    size_t group;
    absl::Time end;
  };
  absl::flat_hash_map<std::string, Open> open;  // key → its latest group
  std::vector<v1::CorrelationGroup> groups;
  std::vector<absl::flat_hash_set<std::string>> customers;
  std::vector<bool> strategic;
  for (const size_t i : order) {
    if (!matches[i].has_value()) continue;
    const v1::CorrelationMatch& match = *matches[i];
    auto it = open.find(match.key());
    if (it == open.end() || create_times[i] >= it->second.end) {
      const Open fresh{groups.size(), create_times[i] + FromProtoDuration(match.window())};
      if (it == open.end()) {
        open.emplace(match.key(), fresh);
      } else {
        it->second = fresh;
      }
      v1::CorrelationGroup& group = groups.emplace_back();
      group.set_policy(match.policy());
      group.set_key(match.key());
      customers.emplace_back();
      strategic.push_back(false);
      it = open.find(match.key());
    }
    const size_t g = it->second.group;
    groups[g].add_issue_indexes(static_cast<int>(i));
    const issue::v1::Customer& customer = issues[i]->customer();
    if (!customer.id().empty()) customers[g].insert(customer.id());
    if (customer.tier() == issue::v1::CUSTOMER_TIER_STRATEGIC) strategic[g] = true;
    groups[g].set_customers(static_cast<int>(customers[g].size()));
    groups[g].set_would_escalate(
        CrossesThresholds(match.escalation(), groups[g].customers(), strategic[g]));
  }
  return groups;
}

}  // namespace switchboard::routing
