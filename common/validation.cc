#include "common/validation.h"

#include "absl/strings/ascii.h"
#include "common/utf8.h"

namespace switchboard {
namespace {

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

void Violations::Add(std::string field, std::string description) {
  list_.push_back({std::move(field), std::move(description)});
}

absl::Status Violations::ToStatus(absl::string_view what) const {
  if (list_.empty()) return absl::OkStatus();
  constexpr size_t kMaxBytes = 256;
  std::vector<FieldViolation> reported;
  for (size_t i = 0; i < list_.size() && i < kMaxReportedViolations; ++i) {
    reported.push_back({std::string(TruncateUtf8(list_[i].field, kMaxBytes)),
                        std::string(TruncateUtf8(list_[i].description, kMaxBytes))});
  }
  std::string message = absl::StrCat("invalid ", TruncateUtf8(what, kMaxBytes), ": ",
                                     reported.front().field, ": ", reported.front().description);
  if (list_.size() > 1) absl::StrAppend(&message, " (and ", list_.size() - 1, " more)");
  return InvalidArgumentWithViolations(message, reported);
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  const char first = id.front();
  if (!((first >= 'a' && first <= 'z') || (first >= '0' && first <= '9'))) return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

bool IsValidSubmitter(absl::string_view submitter) {
  if (submitter.empty() || submitter.size() > 128 || !absl::ascii_isalnum(submitter.front())) {
    return false;
  }
  for (char c : submitter) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '@' && c != '+' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsValidLabelKey(absl::string_view key) {
  if (key.empty() || key.size() > 63) return false;
  for (char c : key) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

void CheckId(Violations& violations, absl::string_view field, absl::string_view value,
             Presence presence) {
  if (value.empty()) {
    if (presence == Presence::kRequired) violations.Add(std::string(field), "required");
    return;
  }
  if (!IsValidId(value)) {
    violations.Add(std::string(field), "must match [a-z0-9][a-z0-9._-]{0,62}");
  }
}

void CheckText(Violations& violations, absl::string_view field, absl::string_view value,
               size_t min_chars, size_t max_chars) {
  if (!IsValidUtf8(value)) {
    violations.Add(std::string(field), "not valid UTF-8");
    return;
  }
  const size_t length = Utf8Length(value);
  if (length < min_chars) {
    violations.Add(std::string(field), min_chars == 1
                                           ? std::string("required")
                                           : absl::StrCat("at least ", min_chars, " characters"));
  } else if (length > max_chars) {
    violations.Add(std::string(field),
                   absl::StrCat("at most ", max_chars, " characters, got ", length));
  }
}

void CheckBytes(Violations& violations, absl::string_view field, absl::string_view value,
                size_t max_bytes) {
  if (value.size() > max_bytes) {
    violations.Add(std::string(field),
                   absl::StrCat("at most ", max_bytes, " bytes, got ", value.size()));
  } else if (!IsValidUtf8(value)) {
    violations.Add(std::string(field), "not valid UTF-8");
  }
}

void CheckLabels(Violations& violations, absl::string_view field,
                 const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.size() > kMaxLabels) {
    violations.Add(std::string(field),
                   absl::StrCat("at most ", kMaxLabels, " labels, got ", labels.size()));
    return;
  }
  for (const auto& [key, value] : labels) {
    // Report the key verbatim only when it is printable; it may be hostile.
    const std::string path =
        IsValidLabelKey(key) ? absl::StrCat(field, "[", key, "]") : std::string(field);
    if (!IsValidLabelKey(key)) violations.Add(path, "label keys must match [a-z0-9_.-]{1,63}");
    CheckBytes(violations, path, value, kMaxLabelValueBytes);
  }
}

void ValidateTarget(const issue::v1::Target& target, absl::string_view field,
                    Violations& violations) {
  CheckId(violations, Path(field, "business_group"), target.business_group(), Presence::kRequired);
  CheckId(violations, Path(field, "team"), target.team(), Presence::kRequired);
}

void ValidateIssueInput(const issue::v1::Issue& issue, absl::string_view field,
                        Violations& violations) {
  CheckText(violations, Path(field, "title"), issue.title(), 1, kMaxTitleChars);
  CheckBytes(violations, Path(field, "description"), issue.description(), kMaxDescriptionBytes);
  if (!issue.has_customer()) {
    violations.Add(Path(field, "customer"), "required");
  } else {
    const auto& customer = issue.customer();
    CheckId(violations, Path(field, "customer.id"), customer.id(), Presence::kRequired);
    CheckText(violations, Path(field, "customer.display_name"), customer.display_name(), 0,
              kMaxDisplayNameChars);
    CheckEnum<issue::v1::CustomerTier>(violations, Path(field, "customer.tier"), customer.tier(),
                                       Presence::kOptional);
    const std::string& country = customer.country();
    if (!country.empty() && (country.size() != 2 || !(country[0] >= 'A' && country[0] <= 'Z') ||
                             !(country[1] >= 'A' && country[1] <= 'Z'))) {
      violations.Add(Path(field, "customer.country"),
                     "must be an ISO 3166-1 alpha-2 code such as \"DE\"");
    }
  }
  CheckId(violations, Path(field, "product"), issue.product(), Presence::kRequired);
  CheckEnum<issue::v1::Severity>(violations, Path(field, "severity"), issue.severity(),
                                 Presence::kRequired);
  CheckId(violations, Path(field, "region"), issue.region(), Presence::kOptional);
  CheckLabels(violations, Path(field, "labels"), issue.labels());
  CheckId(violations, Path(field, "source"), issue.source(), Presence::kRequired);
  if (!issue.submitter().empty() && !IsValidSubmitter(issue.submitter())) {
    violations.Add(Path(field, "submitter"), "must match [A-Za-z0-9][A-Za-z0-9._@+-]{0,127}");
  }
}

}  // namespace switchboard
