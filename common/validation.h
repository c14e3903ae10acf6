// Validation of the API limits documented in proto/, shared so that every service refuses
// the same inputs with the same field violations.
//
//   Violations violations;
//   ValidateIssueInput(request.issue(), "issue", violations);
//   CheckText(violations, "request_id", request.request_id(), 1, 128);
//   RETURN_IF_ERROR(violations.ToStatus("SubmitIssueRequest"));
#ifndef SWITCHBOARD_COMMON_VALIDATION_H_
#define SWITCHBOARD_COMMON_VALIDATION_H_

#include <cstddef>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include <google/protobuf/generated_enum_reflection.h>
#include <google/protobuf/map.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/utf8.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard {

inline constexpr size_t kMaxTitleChars = 256;
inline constexpr size_t kMaxDescriptionBytes = 64 * 1024;
inline constexpr size_t kMaxDisplayNameChars = 256;
inline constexpr size_t kMaxLabels = 64;
inline constexpr size_t kMaxLabelValueBytes = 256;
inline constexpr size_t kMaxRequestBytes = 1024 * 1024;

// Whether a field must be set.
enum class Presence { kRequired, kOptional };

inline constexpr size_t kMaxReportedViolations = 10;

// The field violations found in one request.
class Violations {
 public:
  void Add(std::string field, std::string description);
  bool empty() const { return list_.empty(); }
  const std::vector<FieldViolation>& list() const { return list_; }

  // OK when there are none; else INVALID_ARGUMENT whose message names `what`
  // and the first violation, with the first kMaxReportedViolations as a
  // BadRequest detail (each field and description cut to 256 bytes), so
  // that the error always fits in gRPC's 8 KiB of trailing metadata.
  absl::Status ToStatus(absl::string_view what) const;

 private:
  std::vector<FieldViolation> list_;
};

// `[a-z0-9][a-z0-9._-]{0,62}`: product, source, customer, group and team ids.
bool IsValidId(absl::string_view id);

// `[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}`: a person or account team, e.g.
// "jane.doe@contoso.com"; part of the subscriber name `submitters/{submitter}`.
bool IsValidSubmitter(absl::string_view submitter);

// `[a-z0-9_.-]{1,63}`.
bool IsValidLabelKey(absl::string_view key);

// An id of IsValidId's form; empty is a violation only when required.
void CheckId(Violations& violations, absl::string_view field, absl::string_view value,
             Presence presence);

// Valid UTF-8 of `min_chars`..`max_chars` code points.
void CheckText(Violations& violations, absl::string_view field, absl::string_view value,
               size_t min_chars, size_t max_chars);

// Valid UTF-8 of at most `max_bytes` bytes.
void CheckBytes(Violations& violations, absl::string_view field, absl::string_view value,
                size_t max_bytes);

// At most kMaxLabels labels with valid keys and values.
void CheckLabels(Violations& violations, absl::string_view field,
                 const google::protobuf::Map<std::string, std::string>& labels);

// A known value of enum E, and not its zero (UNSPECIFIED) value if required.
template <typename E>
void CheckEnum(Violations& violations, absl::string_view field, int value, Presence presence) {
  const auto* descriptor = google::protobuf::GetEnumDescriptor<E>();
  if (descriptor->FindValueByNumber(value) == nullptr) {
    violations.Add(std::string(field),
                   absl::StrCat("unknown ", descriptor->name(), " value ", value));
  } else if (value == 0 && presence == Presence::kRequired) {
    violations.Add(std::string(field),
                   absl::StrCat("required: a ", descriptor->name(), " other than ",
                                descriptor->FindValueByNumber(0)->name()));
  }
}

// A business group and team, both required ids.
void ValidateTarget(const issue::v1::Target& target, absl::string_view field,
                    Violations& violations);

// The caller-supplied fields of an issue (output-only fields are ignored).
void ValidateIssueInput(const issue::v1::Issue& issue, absl::string_view field,
                        Violations& violations);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_VALIDATION_H_
