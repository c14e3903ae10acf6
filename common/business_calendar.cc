#include "common/business_calendar.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/utf8.h"

namespace switchboard {
namespace {

using issue::v1::Calendar;
using issue::v1::Weekday;
using issue::v1::WorkingHours;

constexpr int kMinutesPerDay = 24 * 60;
constexpr size_t kMaxTimeZoneBytes = 64;

std::string Dot(absl::string_view path, absl::string_view field) {
  return absl::StrCat(path, ".", field);
}

std::string At(absl::string_view path, int index) { return absl::StrCat(path, "[", index, "]"); }

std::string Shown(absl::string_view value) {
  return IsValidUtf8(value) ? std::string(value) : "<invalid UTF-8>";
}

bool AllDigits(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// Minutes since midnight of "HH:MM": "00:00" to "23:59", and "24:00" for a
// closing time.
absl::optional<int> ParseClockTime(absl::string_view text, bool closing) {
  int hour = 0;
  int minute = 0;
  if (text.size() != 5 || text[2] != ':' || !AllDigits(text.substr(0, 2)) ||
      !AllDigits(text.substr(3)) || !absl::SimpleAtoi(text.substr(0, 2), &hour) ||
      !absl::SimpleAtoi(text.substr(3), &minute) || minute > 59) {
    return absl::nullopt;
  }
  const int minutes = hour * 60 + minute;
  if (minutes < kMinutesPerDay || (closing && minutes == kMinutesPerDay)) return minutes;
  return absl::nullopt;
}

// A local date "YYYY-MM-DD" that exists (no February 30th).
absl::optional<absl::CivilDay> ParseDate(absl::string_view text) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !AllDigits(text.substr(0, 4)) ||
      !AllDigits(text.substr(5, 2)) || !AllDigits(text.substr(8)) ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) || !absl::SimpleAtoi(text.substr(5, 2), &month) ||
      !absl::SimpleAtoi(text.substr(8), &day)) {
    return absl::nullopt;
  }
  const absl::CivilDay date(year, month, day);  // normalizes what does not exist
  if (date.month() != month || date.day() != day) return absl::nullopt;
  return date;
}

// An IANA name such as "America/Argentina/Buenos_Aires" or "Etc/GMT+5",
// loaded from the system's zone data. Abseil reads the name as a path under
// the zone directory, takes "localtime" for the machine's own zone and
// remembers every name it is asked for, found or not; so only names of this
// syntax whose file exists reach it, and a stream of made-up names cannot
// grow its memory.
bool IsZoneName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxTimeZoneBytes || name == "localtime" ||
      name.front() == '/' || name.back() == '/' || absl::StrContains(name, "//")) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '/' && c != '_' && c != '+' && c != '-') return false;
  }
  return true;
}

bool LoadZone(absl::string_view name, absl::TimeZone* zone) {
  if (!IsZoneName(name)) return false;
  const char* dir = std::getenv("TZDIR");  // as Abseil finds the data
  const std::string path =
      absl::StrCat(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo", "/", name);
  std::error_code error;
  return std::filesystem::is_regular_file(path, error) && absl::LoadTimeZone(name, zone);
}

// The opening and closing minutes of well-formed hours.
struct Span {
  int open;
  int close;
};

absl::optional<Span> ParseSpan(const WorkingHours& hours) {
  const absl::optional<int> open = ParseClockTime(hours.start(), false);
  const absl::optional<int> close = ParseClockTime(hours.end(), true);
  if (!open.has_value() || !close.has_value() || *open >= *close) return absl::nullopt;
  return Span{*open, *close};
}

bool HasDay(const WorkingHours& hours, int day) {
  return std::find(hours.days().begin(), hours.days().end(), day) != hours.days().end();
}

bool IsDay(int day) {
  return issue::v1::Weekday_IsValid(day) && day != issue::v1::WEEKDAY_UNSPECIFIED;
}

void CheckTimeZone(absl::string_view name, const std::string& path, ZoneData zone_data,
                   Violations& violations) {
  absl::TimeZone zone;
  if (name.empty()) {
    violations.Add(path, "required: an IANA time zone such as Europe/Dublin");
  } else if (zone_data == ZoneData::kNotRequired ? !IsZoneName(name) : !LoadZone(name, &zone)) {
    violations.Add(path, absl::StrCat("unknown time zone \"", Shown(name),
                                      "\"; use an IANA name such as Europe/Dublin"));
  }
}

void CheckDays(const WorkingHours& hours, const std::string& path, Violations& violations) {
  if (hours.days().empty()) {
    violations.Add(path, "at least one day is required");
    return;
  }
  if (hours.days_size() > 7) {
    violations.Add(path, "at most 7 days");
    return;
  }
  bool named[8] = {};
  for (int d = 0; d < hours.days_size(); ++d) {
    const int day = hours.days(d);
    CheckEnum<Weekday>(violations, At(path, d), day, Presence::kRequired);
    if (!IsDay(day)) continue;
    if (named[day]) {
      violations.Add(At(path, d), absl::StrCat(issue::v1::Weekday_Name(day), " is named twice"));
    }
    named[day] = true;
  }
}

void CheckWorkingHours(const WorkingHours& hours, const std::string& path, Violations& violations) {
  CheckDays(hours, Dot(path, "days"), violations);
  const absl::optional<int> open = ParseClockTime(hours.start(), false);
  if (!open.has_value()) {
    violations.Add(Dot(path, "start"), hours.start().empty() ? "required: HH:MM from 00:00 to 23:59"
                                                             : "must be HH:MM from 00:00 to 23:59");
  }
  const absl::optional<int> close = ParseClockTime(hours.end(), true);
  if (!close.has_value()) {
    violations.Add(Dot(path, "end"), hours.end().empty() ? "required: HH:MM up to 24:00"
                                                         : "must be HH:MM from 00:00 to 24:00");
  } else if (open.has_value() && *close <= *open) {
    violations.Add(Dot(path, "end"),
                   absl::StrCat("must be after start ", hours.start(),
                                "; hours do not run past midnight, so split a night shift into "
                                "two entries"));
  }
}

// Entries that share a day and whose hours overlap: one violation per pair,
// on the later entry, naming the earlier one and the days they share.
void CheckOverlaps(const Calendar& calendar, const std::string& path, Violations& violations) {
  std::vector<absl::optional<Span>> spans;
  for (const WorkingHours& hours : calendar.hours()) spans.push_back(ParseSpan(hours));
  for (int later = 1; later < calendar.hours_size(); ++later) {
    for (int earlier = 0; earlier < later; ++earlier) {
      const absl::optional<Span>& a = spans[earlier];
      const absl::optional<Span>& b = spans[later];
      if (!a.has_value() || !b.has_value() || a->close <= b->open || b->close <= a->open) continue;
      const WorkingHours& first = calendar.hours(earlier);
      const WorkingHours& second = calendar.hours(later);
      std::vector<std::string> shared;
      for (int day = issue::v1::WEEKDAY_MONDAY; day <= issue::v1::WEEKDAY_SUNDAY; ++day) {
        if (HasDay(first, day) && HasDay(second, day)) {
          shared.push_back(issue::v1::Weekday_Name(static_cast<Weekday>(day)));
        }
      }
      if (shared.empty()) continue;
      violations.Add(
          At(path, later),
          absl::StrCat(second.start(), "-", second.end(), " overlaps hours[", earlier, "] (",
                       first.start(), "-", first.end(), ") on ", absl::StrJoin(shared, ", ")));
    }
  }
}

void CheckHours(const Calendar& calendar, const std::string& path, Violations& violations) {
  if (calendar.hours().empty()) {
    violations.Add(path, "at least one WorkingHours entry is required");
    return;
  }
  if (calendar.hours_size() > kMaxCalendarHours) {
    violations.Add(path, absl::StrCat("at most ", kMaxCalendarHours, " entries"));
    return;
  }
  for (int h = 0; h < calendar.hours_size(); ++h) {
    CheckWorkingHours(calendar.hours(h), At(path, h), violations);
  }
  CheckOverlaps(calendar, path, violations);
}

void CheckHolidays(const Calendar& calendar, const std::string& path, Violations& violations) {
  if (calendar.holidays_size() > kMaxCalendarHolidays) {
    violations.Add(path, absl::StrCat("at most ", kMaxCalendarHolidays, " holidays"));
    return;
  }
  std::map<absl::CivilDay, int> seen;  // date → index
  for (int h = 0; h < calendar.holidays_size(); ++h) {
    const std::string& text = calendar.holidays(h);
    const absl::optional<absl::CivilDay> date = ParseDate(text);
    if (!date.has_value()) {
      violations.Add(At(path, h), "must be a date YYYY-MM-DD");
      continue;
    }
    auto [it, inserted] = seen.emplace(*date, h);
    if (!inserted) {
      violations.Add(At(path, h), absl::StrCat("duplicate holiday ", text, " (also holidays[",
                                               it->second, "])"));
    }
  }
}

}  // namespace

void BusinessCalendar::Validate(const Calendar& calendar, absl::string_view path,
                                Violations& violations, ZoneData zone_data) {
  CheckId(violations, Dot(path, "id"), calendar.id(), Presence::kRequired);
  CheckTimeZone(calendar.time_zone(), Dot(path, "time_zone"), zone_data, violations);
  CheckHours(calendar, Dot(path, "hours"), violations);
  CheckHolidays(calendar, Dot(path, "holidays"), violations);
}

absl::StatusOr<BusinessCalendar> BusinessCalendar::Compile(const Calendar& calendar) {
  Violations violations;
  Validate(calendar, "calendar", violations);
  RETURN_IF_ERROR(violations.ToStatus("calendar"));
  absl::TimeZone zone;
  if (!LoadZone(calendar.time_zone(), &zone)) {  // the zone data changed since Validate
    return absl::InvalidArgumentError(
        absl::StrCat("unknown time zone \"", calendar.time_zone(), "\""));
  }
  std::array<std::vector<Opening>, 7> week;
  for (const WorkingHours& hours : calendar.hours()) {
    const Span span = *ParseSpan(hours);
    for (int day : hours.days()) week[day - 1].push_back(Opening{span.open, span.close});
  }
  for (std::vector<Opening>& openings : week) {
    std::sort(openings.begin(), openings.end(),
              [](const Opening& a, const Opening& b) { return a.open < b.open; });
  }
  std::vector<absl::CivilDay> holidays;
  for (const std::string& text : calendar.holidays()) holidays.push_back(*ParseDate(text));
  std::sort(holidays.begin(), holidays.end());
  return BusinessCalendar(zone, std::move(week), std::move(holidays));
}

BusinessCalendar::BusinessCalendar(absl::TimeZone zone, std::array<std::vector<Opening>, 7> week,
                                   std::vector<absl::CivilDay> holidays)
    : zone_(zone), week_(std::move(week)), holidays_(std::move(holidays)) {
  for (const std::vector<Opening>& openings : week_) {
    for (const Opening& opening : openings)
      week_length_ += absl::Minutes(opening.close - opening.open);
  }
}

absl::Time BusinessCalendar::Edge(absl::CivilDay day, int minute) const {
  const absl::TimeZone::TimeInfo info =
      zone_.At(absl::CivilSecond(absl::CivilMinute(day) + minute));
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

const std::vector<BusinessCalendar::Opening>& BusinessCalendar::OpeningsOn(
    absl::CivilDay day) const {
  static const std::vector<Opening> kClosed;
  if (std::binary_search(holidays_.begin(), holidays_.end(), day)) return kClosed;
  return week_[static_cast<int>(absl::GetWeekday(day))];
}

int64_t BusinessCalendar::PlainWeeks(absl::CivilDay day, int64_t limit) const {
  absl::CivilDay barrier = day + 7 * limit;
  const auto holiday = std::lower_bound(holidays_.begin(), holidays_.end(), day);
  if (holiday != holidays_.end()) barrier = std::min(barrier, *holiday);
  // No next transition means a fixed offset from here on. (The zone data
  // lists transitions up to the year 2437 and repeats its rules after that,
  // which the horizon keeps out of reach for two centuries.)
  absl::TimeZone::CivilTransition transition;
  // From just before the day's first instant: a change at midnight itself
  // (Santiago, Havana, Beirut) makes that instant the change, and
  // NextTransition looks strictly after its argument.
  if (zone_.NextTransition(Edge(day, 0) - absl::Seconds(1), &transition)) {
    // Both sides: going back at midnight repeats the end of the day before.
    barrier = std::min({barrier, absl::CivilDay(transition.from), absl::CivilDay(transition.to)});
  }
  return barrier > day ? (barrier - day) / 7 : 0;
}

absl::Time BusinessCalendar::Add(absl::Time from, absl::Duration business) const {
  if (business <= absl::ZeroDuration() || from == absl::InfiniteFuture() ||
      from == absl::InfinitePast()) {
    return from;
  }
  if (business == absl::InfiniteDuration()) return absl::InfiniteFuture();
  const absl::CivilDay first = absl::ToCivilDay(from, zone_);
  absl::Duration remaining = business;
  for (absl::CivilDay day = first; day - first <= kHorizonDays; ++day) {
    if (day != first && remaining > week_length_) {
      // Whole weeks that leave some time to count: the deadline is after them.
      absl::Duration rest;
      int64_t weeks = absl::IDivDuration(remaining, week_length_, &rest);
      if (rest == absl::ZeroDuration()) --weeks;
      weeks = PlainWeeks(day, std::min<int64_t>(weeks, kHorizonDays / 7 + 1));
      day += 7 * weeks;
      remaining -= weeks * week_length_;
    }
    for (const Opening& opening : OpeningsOn(day)) {
      const absl::Time close = Edge(day, opening.close);
      if (close <= from) continue;
      const absl::Time open = std::max(Edge(day, opening.open), from);
      if (remaining <= close - open) return open + remaining;
      remaining -= close - open;
    }
  }
  return absl::InfiniteFuture();
}

absl::Duration BusinessCalendar::Between(absl::Time a, absl::Time b) const {
  if (b <= a) return absl::ZeroDuration();
  if (a == absl::InfinitePast() || b == absl::InfiniteFuture()) return absl::InfiniteDuration();
  const absl::CivilDay first = absl::ToCivilDay(a, zone_);
  const absl::CivilDay last = absl::ToCivilDay(b, zone_);
  if (last - first > kHorizonDays) return absl::InfiniteDuration();
  absl::Duration total;
  for (absl::CivilDay day = first; day <= last; ++day) {
    if (day != first && last - day >= 7) {
      const int64_t weeks = PlainWeeks(day, (last - day) / 7);
      day += 7 * weeks;
      total += weeks * week_length_;
    }
    for (const Opening& opening : OpeningsOn(day)) {
      const absl::Time open = std::max(Edge(day, opening.open), a);
      const absl::Time close = std::min(Edge(day, opening.close), b);
      if (open < close) total += close - open;
    }
  }
  return total;
}

SlaTimeline::SlaTimeline(absl::optional<BusinessCalendar> calendar)
    : calendar_(std::move(calendar)) {}

SlaTimeline SlaTimeline::Of(const issue::v1::SlaTerms& terms) {
  if (terms.clock() != issue::v1::SLA_CLOCK_BUSINESS) return SlaTimeline(absl::nullopt);
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Compile(terms.calendar());
  // Terms already on an issue must not make its next change fail: a calendar
  // that no longer compiles counts calendar time.
  if (!calendar.ok()) return SlaTimeline(absl::nullopt);
  return SlaTimeline(*std::move(calendar));
}

absl::Time SlaTimeline::Add(absl::Time from, absl::Duration d) const {
  if (d <= absl::ZeroDuration()) return from;
  return calendar_.has_value() ? calendar_->Add(from, d) : from + d;
}

absl::Duration SlaTimeline::Between(absl::Time a, absl::Time b) const {
  if (b <= a) return absl::ZeroDuration();
  return calendar_.has_value() ? calendar_->Between(a, b) : b - a;
}

}  // namespace switchboard
