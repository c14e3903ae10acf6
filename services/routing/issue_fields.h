// The issue fields a routing condition can test, by the names rules use:
// product, severity, region, source, submitter, title, description,
// customer.id, customer.tier, customer.country and labels.<key>.
#ifndef SWITCHBOARD_SERVICES_ROUTING_ISSUE_FIELDS_H_
#define SWITCHBOARD_SERVICES_ROUTING_ISSUE_FIELDS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard::routing {

enum class FieldId {
  kProduct,
  kSeverity,
  kRegion,
  kSource,
  kSubmitter,
  kTitle,
  kDescription,
  kCustomerId,
  kCustomerTier,
  kCustomerCountry,
  kLabel,
};

// A field named in a condition; `label_key` is set for labels.<key>.
struct FieldRef {
  FieldId id;
  std::string label_key;

  // The name as rules write it, e.g. "customer.tier" or "labels.channel".
  std::string Name() const;

  bool operator==(const FieldRef& other) const {
    return id == other.id && label_key == other.label_key;
  }
};

// The field named `name`, or nullopt for an unknown name or a label key that
// is not of the form `[a-z0-9_.-]{1,63}`.
absl::optional<FieldRef> ParseField(absl::string_view name);

// Whether the field holds an enum, compared by value name.
bool IsEnumField(FieldId id);

// Whether `name` is a value name of the field's enum, e.g. "SEVERITY_HIGH".
bool IsEnumValueName(FieldId id, absl::string_view name);

// The field's value in `issue`: the string itself, an enum's value name, or
// "" when unset (an enum at 0, a missing label). Valid while `issue` is.
absl::string_view FieldValue(const issue::v1::Issue& issue, const FieldRef& field);

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_ISSUE_FIELDS_H_
