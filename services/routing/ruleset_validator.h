// Validation of a whole ruleset, as ApplyRuleset and TestRuleset promise:
// every violation is reported, each with the path of its field, so a caller
// can fix a ruleset in one round.
#ifndef SWITCHBOARD_SERVICES_ROUTING_RULESET_VALIDATOR_H_
#define SWITCHBOARD_SERVICES_ROUTING_RULESET_VALIDATOR_H_

#include <re2/re2.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/business_calendar.h"
#include "common/validation.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

// Bounds that keep a ruleset's compiled form and its evaluation small.
inline constexpr int kMaxBusinessGroups = 1000;
inline constexpr int kMaxTeamsPerGroup = 1000;
inline constexpr int kMaxRules = 20000;
inline constexpr int kMaxConditionsPerRule = 32;
inline constexpr int kMaxValuesPerCondition = 1000;
inline constexpr int kMaxValueBytes = 256;
inline constexpr int kMaxTargetsPerList = 16;  // watchers, escalation lists
inline constexpr int kMaxSlaPolicies = 1000;
inline constexpr int kMaxCalendars = 100;
inline constexpr int kMaxRegexProgramSize = 2000;  // RE2 program size
// OPERATOR_REGEX conditions in one ruleset: with RuleRegexOptions' memory
// bound, all of a ruleset's patterns together use at most 256 MiB.
inline constexpr int kMaxRegexConditions = 1000;
inline constexpr int kMaxTextChars = 1024;  // comments, descriptions
inline constexpr absl::Duration kMaxSlaDuration = absl::Hours(24 * 366);
// How long after resolution an issue may be reopened or rated when its SLA
// policy names no reopen_window.
inline constexpr absl::Duration kDefaultReopenWindow = absl::Hours(24 * 7);

// How every rule pattern is compiled, by the validator and the evaluator
// alike: errors not logged, at most 256 KiB per pattern (program and DFA
// cache; past it RE2 matches with its NFA, still in linear time).
RE2::Options RuleRegexOptions();

// Adds a violation under `prefix` (e.g. "ruleset") for everything wrong with
// `ruleset`: malformed or duplicate ids, targets, watchers and escalations
// naming unknown groups or teams, unknown condition fields, operators, enum
// values, SLA policies or calendars, bad SLA clocks and durations, invalid
// calendars (see BusinessCalendar::Validate), bad or too large RE2 patterns,
// a missing default target, and every bound above. Output-only fields are
// ignored.
// `zone_data`: whether each calendar's time zone must be in this machine's
// zone data (a new ruleset), or only well formed (one already stored).
void ValidateRuleset(const v1::Ruleset& ruleset, absl::string_view prefix, Violations& violations,
                     ZoneData zone_data = ZoneData::kRequired);

}  // namespace switchboard::routing

#endif  // SWITCHBOARD_SERVICES_ROUTING_RULESET_VALIDATOR_H_
