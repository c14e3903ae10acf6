// Correlation policies: which issues are one broad problem.
//
// A policy names key fields (product and region, say) and a window. Routing
// computes, for each issue it routes, the first policy in ruleset order whose
// scope (rules, business groups) holds for the decision and whose key fields
// all have values, and puts the policy, the key and the window on the
// decision as a CorrelationMatch. Keys are plain text, so two issues belong
// together exactly when their keys are equal:
//
//   regional-outage|product=azure-storage|region=emea
//
// The pseudo-field title.fingerprint groups titles that differ only in case,
// punctuation, numbers and ids: "Blob writes fail with 503 (req 8f3a9c01)"
// and "blob writes FAIL with 500 - req 77aa01ff" have one fingerprint.
//
//   CompiledCorrelation correlation(ruleset);   // a validated ruleset
//   if (auto match = correlation.Match(issue, decision)) { ... match->key() ... }
#ifndef SWITCHBOARD_SERVICES_ROUTING_CORRELATION_H_
#define SWITCHBOARD_SERVICES_ROUTING_CORRELATION_H_

#include <cstddef>
#include <string>
#include <vector>

#include <prometheus/counter.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/correlation_thresholds.h"
#include "services/routing/issue_fields.h"
#include "services/routing/routing_metrics.h"
#include "switchboard/issue/v1/issue.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

inline constexpr int kMaxCorrelationPolicies = 100;
inline constexpr int kMaxCorrelationKeyFields = 8;
inline constexpr absl::Duration kMaxCorrelationWindow = absl::Hours(24 * 30);
inline constexpr int kMaxCorrelationMinCustomers = 1'000'000;
inline constexpr int kMaxCorrelationScope = 1000;  // rules, business groups
// A longer key (long label values, say) makes its policy not apply: the next
// policy is tried, as when a key field has no value.
inline constexpr size_t kMaxCorrelationKeyBytes = 4096;

// The key fields a policy may name, for messages.
inline constexpr absl::string_view kCorrelationKeyFieldNames =
    "product, severity, region, source, submitter, customer.id, customer.tier, "
    "customer.country, labels.<key>, title.fingerprint";

// One key field: an issue field, or the title's fingerprint.
struct KeyField {
  FieldRef field;
  bool title_fingerprint = false;

  std::string Name() const;
};

// The key field named `name`, or nullopt when a policy may not use it (title
// and description are free text: use title.fingerprint).
absl::optional<KeyField> ParseKeyField(absl::string_view name);

// 16 lowercase hex digits: the fingerprint of the title normalised so that
// titles differing only in case, punctuation, numbers and ids are equal:
// ASCII letters lowercased; a UUID, and a word of 6 or more hex digits with
// at least one digit (a request id), replaced by "#"; any other run of
// digits replaced by "#" within its word ("v2" is "v#"); punctuation (ASCII,
// Latin-1, curly quotes, dashes) a word break; a run of "#" words one "#".
// "" when the title has no words.
std::string TitleFingerprint(absl::string_view title);

class CompiledCorrelation {
 public:
  // `ruleset` must be valid (ValidateRuleset) and outlive this object. With
  // `metrics`, matches are counted by policy.
  CompiledCorrelation(const v1::Ruleset& ruleset, RoutingMetrics* metrics);

  // The match of the first policy that applies to `issue` routed by
  // `decision`, or nullopt.
  absl::optional<v1::CorrelationMatch> Match(const issue::v1::Issue& issue,
                                             const v1::RoutingDecision& decision) const;

  bool empty() const { return policies_.empty(); }

 private:
  struct Policy {
    const v1::CorrelationPolicy* proto;
    std::vector<KeyField> fields;
    absl::flat_hash_set<std::string> rules;   // empty: any
    absl::flat_hash_set<std::string> groups;  // empty: any
    prometheus::Counter* matches = nullptr;
  };

  std::vector<Policy> policies_;
};

// The problems that `matches` (one per issue, nullopt for an issue no policy
// applies to) would make, grouped as intake groups them: per key, in order of
// creation time (`create_times`, parallel to `issues`), the first issue opens
// a window of the policy's length and every later issue created before it
// ends joins; the next one opens a new window. Groups are in order of their
// first issue.
std::vector<v1::CorrelationGroup> GroupIntoProblems(
    const std::vector<const issue::v1::Issue*>& issues,
    const std::vector<absl::optional<v1::CorrelationMatch>>& matches,
    const std::vector<absl::Time>& create_times);

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_CORRELATION_H_
