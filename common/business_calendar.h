// Business time: the working hours of a team's calendar (an issue.v1.Calendar:
// an IANA time zone, weekly hours, holidays), and an issue's SLA clock, which
// counts either every minute or only those hours.
//
//   ASSIGN_OR_RETURN(BusinessCalendar dublin, BusinessCalendar::Compile(calendar));
//   absl::Time ack_by = dublin.Add(now, absl::Hours(4));  // 4 working hours later
//   absl::Duration worked = dublin.Between(pause_start, now);
//
// Hours are local wall-clock times, so a daylight-saving change shortens or
// lengthens the day's hours exactly as the clock on the office wall does. Each
// edge of the hours ("09:00" on some date) is the instant the wall clock
// first shows it; an edge that does not exist that day (in the hour skipped
// when clocks go forward) is the instant of the jump. So hours that span the
// jump forward lose the skipped hour, and hours that span the hour repeated
// when clocks go back count it twice. Holidays are local dates.
#ifndef SWITCHBOARD_COMMON_BUSINESS_CALENDAR_H_
#define SWITCHBOARD_COMMON_BUSINESS_CALENDAR_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/validation.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard {

inline constexpr int kMaxCalendarHours = 100;      // WorkingHours entries
inline constexpr int kMaxCalendarHolidays = 1000;  // holiday dates

// Whether validating a calendar checks that this machine's zone data has
// its time zone.
enum class ZoneData { kRequired, kNotRequired };

class BusinessCalendar {
 public:
  // Adds a violation under `path` (e.g. "ruleset.calendars[0]") for
  // everything wrong with `calendar`: a missing or malformed id, a missing or
  // unknown time zone, no hours, hours without days or with an unknown day,
  // a malformed start or end, a start not before its end, hours of one day
  // that overlap (on the later entry, naming the earlier one), malformed or
  // duplicate holidays, and more than kMaxCalendarHours hours or
  // kMaxCalendarHolidays holidays.
  // With ZoneData::kNotRequired the time zone need only be well formed:
  // for a ruleset already stored, which must load even if this machine's
  // zone data lacks one of its zones (issues then count calendar time).
  static void Validate(const issue::v1::Calendar& calendar, absl::string_view path,
                       Violations& violations, ZoneData zone_data = ZoneData::kRequired);

  // The calendar, ready to count; INVALID_ARGUMENT with the violations (under
  // "calendar") if Validate finds any.
  static absl::StatusOr<BusinessCalendar> Compile(const issue::v1::Calendar& calendar);

  // The instant at which `business` working time has passed since `from`:
  // `from` itself when `business` is zero or negative; when `from` is outside
  // the hours, counting starts at the next opening. A target that runs out
  // exactly at a closing time is that closing time. Deadlines more than
  // kHorizonDays ahead are absl::InfiniteFuture().
  absl::Time Add(absl::Time from, absl::Duration business) const;

  // The working time within [a, b); zero when b <= a. The inverse of Add:
  // Between(a, Add(a, d)) == d. Spans longer than kHorizonDays are
  // absl::InfiniteDuration().
  absl::Duration Between(absl::Time a, absl::Time b) const;

  // How far ahead Add and Between look: a bound on their work, far beyond
  // any SLA (366 days of business time at one hour a week is 168 years).
  static constexpr int kHorizonDays = 200 * 366;

 private:
  // Working hours within one local day, in minutes since its midnight.
  struct Opening {
    int open;
    int close;  // at most 24 * 60
  };

  BusinessCalendar(absl::TimeZone zone, std::array<std::vector<Opening>, 7> week,
                   std::vector<absl::CivilDay> holidays);

  // The instant the wall clock shows `minute` minutes after the midnight
  // that starts `day` (see the header comment for skipped and repeated times).
  absl::Time Edge(absl::CivilDay day, int minute) const;
  // The hours of `day`, in order; none on a holiday.
  const std::vector<Opening>& OpeningsOn(absl::CivilDay day) const;
  // How many whole weeks from the midnight that starts `day`, at most
  // `limit`, hold no holiday and no change of the zone's UTC offset: each of
  // them holds exactly week_length_ of working time, so walks skip them.
  int64_t PlainWeeks(absl::CivilDay day, int64_t limit) const;

  absl::TimeZone zone_;
  std::array<std::vector<Opening>, 7> week_;  // indexed by absl::Weekday, Monday first
  std::vector<absl::CivilDay> holidays_;      // sorted, distinct
  absl::Duration week_length_;                // working time in a week of wall-clock hours
};

// How an issue's SLA terms count time: business time on the terms' calendar
// when `terms.clock()` is SLA_CLOCK_BUSINESS and that calendar compiles, else
// calendar time (every minute). Terms stored on an issue never make a
// computation fail: a calendar that no longer compiles (say, a time zone the
// system's data dropped) counts calendar time.
class SlaTimeline {
 public:
  static SlaTimeline Of(const issue::v1::SlaTerms& terms);

  // `d` of the clock's time after `from` (see BusinessCalendar::Add); a
  // negative `d` counts as zero.
  absl::Time Add(absl::Time from, absl::Duration d) const;
  // The clock's time within [a, b); zero when b <= a.
  absl::Duration Between(absl::Time a, absl::Time b) const;
  // Whether it counts business time.
  bool business() const { return calendar_.has_value(); }

 private:
  explicit SlaTimeline(absl::optional<BusinessCalendar> calendar);

  absl::optional<BusinessCalendar> calendar_;
};

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_BUSINESS_CALENDAR_H_
