#include "services/routing/issue_fields.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/validation.h"

namespace switchboard::routing {
namespace {

using issue::v1::CustomerTier;
using issue::v1::Issue;
using issue::v1::Severity;

constexpr absl::string_view kLabelPrefix = "labels.";

struct NamedField {
  absl::string_view name;
  FieldId id;
};

constexpr NamedField kFields[] = {
    {"product", FieldId::kProduct},
    {"severity", FieldId::kSeverity},
    {"region", FieldId::kRegion},
    {"source", FieldId::kSource},
    {"submitter", FieldId::kSubmitter},
    {"title", FieldId::kTitle},
    {"description", FieldId::kDescription},
    {"customer.id", FieldId::kCustomerId},
    {"customer.tier", FieldId::kCustomerTier},
    {"customer.country", FieldId::kCustomerCountry},
};

// The name of a known, non-zero enum value, or "".
template <typename E>
absl::string_view EnumValueName(int value) {
  if (value == 0) return "";
  const auto* descriptor = google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(value);
  return descriptor == nullptr ? absl::string_view() : absl::string_view(descriptor->name());
}

}  // namespace

std::string FieldRef::Name() const {
  if (id == FieldId::kLabel) return absl::StrCat(kLabelPrefix, label_key);
  for (const NamedField& field : kFields) {
    if (field.id == id) return std::string(field.name);
  }
  return "";
}

absl::optional<FieldRef> ParseField(absl::string_view name) {
  if (absl::StartsWith(name, kLabelPrefix)) {
    absl::string_view key = name.substr(kLabelPrefix.size());
    if (!IsValidLabelKey(key)) return absl::nullopt;
    return FieldRef{FieldId::kLabel, std::string(key)};
  }
  for (const NamedField& field : kFields) {
    if (field.name == name) return FieldRef{field.id, ""};
  }
  return absl::nullopt;
}

bool IsEnumField(FieldId id) { return id == FieldId::kSeverity || id == FieldId::kCustomerTier; }

bool IsEnumValueName(FieldId id, absl::string_view name) {
  const google::protobuf::EnumDescriptor* descriptor =
      id == FieldId::kSeverity       ? google::protobuf::GetEnumDescriptor<Severity>()
      : id == FieldId::kCustomerTier ? google::protobuf::GetEnumDescriptor<CustomerTier>()
                                     : nullptr;
  if (descriptor == nullptr) return false;
  const auto* value = descriptor->FindValueByName(std::string(name));
  return value != nullptr && value->number() != 0;
}

absl::string_view FieldValue(const Issue& issue, const FieldRef& field) {
  switch (field.id) {
    case FieldId::kProduct:
      return issue.product();
    case FieldId::kSeverity:
      return EnumValueName<Severity>(issue.severity());
    case FieldId::kRegion:
      return issue.region();
    case FieldId::kSource:
      return issue.source();
    case FieldId::kSubmitter:
      return issue.submitter();
    case FieldId::kTitle:
      return issue.title();
    case FieldId::kDescription:
      return issue.description();
    case FieldId::kCustomerId:
      return issue.customer().id();
    case FieldId::kCustomerTier:
      return EnumValueName<CustomerTier>(issue.customer().tier());
    case FieldId::kCustomerCountry:
      return issue.customer().country();
    case FieldId::kLabel: {
      auto it = issue.labels().find(field.label_key);
      return it == issue.labels().end() ? absl::string_view() : absl::string_view(it->second);
    }
  }
  return "";
}

}  // namespace switchboard::routing
