#include "common/business_calendar.h"

#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace switchboard {
namespace {

using issue::v1::Calendar;
using issue::v1::SlaTerms;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

// Mon-Fri 09:00-17:30 in Dublin, closed on St Patrick's Day 2026.
constexpr char kDublinOffice[] = R"pb(
  id: "dublin-office"
  time_zone: "Europe/Dublin"
  hours {
    days: [ WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY, WEEKDAY_FRIDAY ]
    start: "09:00"
    end: "17:30"
  }
  holidays: "2026-03-17"
)pb";

// Round the clock on Saturdays and Sundays, so that the night of each
// daylight-saving change is working time.
constexpr char kDublinWeekends[] = R"pb(
  id: "dublin-weekends"
  time_zone: "Europe/Dublin"
  hours {
    days: [ WEEKDAY_SATURDAY, WEEKDAY_SUNDAY ]
    start: "00:00"
    end: "24:00"
  }
)pb";

Calendar ParseCalendar(const std::string& text) {
  Calendar calendar;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &calendar)) << text;
  return calendar;
}

BusinessCalendar CompileCalendar(const std::string& text) {
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Compile(ParseCalendar(text));
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  return std::move(calendar).value();
}

// A calendar in `zone` open on `days` (text-format list) from `start` to `end`.
std::string CalendarText(const std::string& zone, const std::string& days, const std::string& start,
                         const std::string& end) {
  return absl::StrCat("id: \"c\" time_zone: \"", zone, "\" hours { days: ", days, " start: \"",
                      start, "\" end: \"", end, "\" }");
}

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name << ": is tzdata installed?";
  return zone;
}

const absl::TimeZone& Dublin() {
  static const absl::TimeZone zone = Zone("Europe/Dublin");
  return zone;
}

const absl::TimeZone& NewYork() {
  static const absl::TimeZone zone = Zone("America/New_York");
  return zone;
}

// The instant a wall clock in `zone` first shows the time (which must exist).
absl::Time Local(const absl::TimeZone& zone, int year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilMinute(year, month, day, hour, minute), zone);
}

absl::Time Utc(int year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilMinute(year, month, day, hour, minute), absl::UTCTimeZone());
}

// The example in docs/sla.md: a 4-business-hour target set on Friday at
// 16:00 has 1.5 hours on Friday and 2.5 on Monday.
TEST(BusinessCalendarTest, FridayAfternoonTargetLandsOnMondayMorning) {
  const BusinessCalendar office = CompileCalendar(kDublinOffice);
  const absl::Time friday = Local(Dublin(), 2026, 11, 13, 16, 0);
  const absl::Time monday = Local(Dublin(), 2026, 11, 16, 11, 30);
  EXPECT_EQ(office.Add(friday, absl::Hours(4)), monday);
  EXPECT_EQ(office.Between(friday, monday), absl::Hours(4));
  // A wait from Friday 17:00 to Monday 10:00 holds 30 + 60 working minutes.
  EXPECT_EQ(
      office.Between(Local(Dublin(), 2026, 11, 13, 17, 0), Local(Dublin(), 2026, 11, 16, 10, 0)),
      absl::Minutes(90));
}

TEST(BusinessCalendarTest, CountingStartsAtTheNextOpening) {
  const BusinessCalendar office = CompileCalendar(kDublinOffice);
  // Before opening, after closing, on a weekend.
  EXPECT_EQ(office.Add(Local(Dublin(), 2026, 3, 9, 7, 0), absl::Hours(1)),
            Local(Dublin(), 2026, 3, 9, 10, 0));
  EXPECT_EQ(office.Add(Local(Dublin(), 2026, 3, 9, 18, 0), absl::Hours(1)),
            Local(Dublin(), 2026, 3, 10, 10, 0));
  EXPECT_EQ(office.Add(Local(Dublin(), 2026, 3, 14, 10, 0), absl::Hours(1)),
            Local(Dublin(), 2026, 3, 16, 10, 0));
  // Time outside the hours does not count.
  EXPECT_EQ(
      office.Between(Local(Dublin(), 2026, 3, 13, 17, 30), Local(Dublin(), 2026, 3, 16, 9, 0)),
      absl::ZeroDuration());
}

TEST(BusinessCalendarTest, ZeroDurationIsTheStartItselfEvenOutsideHours) {
  const BusinessCalendar office = CompileCalendar(kDublinOffice);
  const absl::Time saturday = Local(Dublin(), 2026, 3, 14, 10, 0);
  EXPECT_EQ(office.Add(saturday, absl::ZeroDuration()), saturday);
  EXPECT_EQ(office.Add(saturday, -absl::Hours(1)), saturday);
  EXPECT_EQ(office.Between(saturday, saturday), absl::ZeroDuration());
  EXPECT_EQ(office.Between(saturday, saturday - absl::Hours(1)), absl::ZeroDuration());
}

TEST(BusinessCalendarTest, ATargetThatRunsOutAtClosingTimeIsTheClosingTime) {
  const BusinessCalendar office = CompileCalendar(kDublinOffice);
  EXPECT_EQ(office.Add(Local(Dublin(), 2026, 3, 9, 16, 30), absl::Hours(1)),
            Local(Dublin(), 2026, 3, 9, 17, 30));
  EXPECT_EQ(office.Add(Local(Dublin(), 2026, 3, 9, 9, 0), absl::Minutes(8 * 60 + 30)),
            Local(Dublin(), 2026, 3, 9, 17, 30));
}

TEST(BusinessCalendarTest, HolidaysAreClosedAllDay) {
  const BusinessCalendar office = CompileCalendar(kDublinOffice);
  // Monday 16 March 16:00: 1.5 hours on Monday, none on St Patrick's Day.
  EXPECT_EQ(office.Add(Local(Dublin(), 2026, 3, 16, 16, 0), absl::Hours(4)),
            Local(Dublin(), 2026, 3, 18, 11, 30));
  EXPECT_EQ(office.Between(Local(Dublin(), 2026, 3, 17, 0, 0), Local(Dublin(), 2026, 3, 18, 0, 0)),
            absl::ZeroDuration());
}

TEST(BusinessCalendarTest, SpringForwardInDublinShortensTheNight) {
  // 2026-03-29 01:00 GMT becomes 02:00 IST: Sunday has 23 hours.
  const BusinessCalendar weekends = CompileCalendar(kDublinWeekends);
  EXPECT_EQ(
      weekends.Between(Local(Dublin(), 2026, 3, 28, 0, 0), Local(Dublin(), 2026, 3, 30, 0, 0)),
      absl::Hours(24 + 23));
  // Two hours after midnight the wall clock shows 03:00.
  EXPECT_EQ(weekends.Add(Local(Dublin(), 2026, 3, 29, 0, 0), absl::Hours(2)),
            Local(Dublin(), 2026, 3, 29, 3, 0));

  // Hours opening at 01:30, which that night does not exist, open at the
  // jump (01:00 GMT) and hold one hour until 03:00 IST.
  const BusinessCalendar night =
      CompileCalendar(CalendarText("Europe/Dublin", "WEEKDAY_SUNDAY", "01:30", "03:00"));
  EXPECT_EQ(night.Between(Local(Dublin(), 2026, 3, 28, 12, 0), Local(Dublin(), 2026, 3, 30, 12, 0)),
            absl::Hours(1));
  EXPECT_EQ(night.Add(Local(Dublin(), 2026, 3, 28, 12, 0), absl::Minutes(30)),
            Utc(2026, 3, 29, 1, 30));  // 02:30 IST
  // A week later the same hours hold 90 minutes again.
  EXPECT_EQ(night.Between(Local(Dublin(), 2026, 4, 4, 12, 0), Local(Dublin(), 2026, 4, 6, 12, 0)),
            absl::Minutes(90));
}

TEST(BusinessCalendarTest, FallBackInDublinCountsTheRepeatedHourTwice) {
  // 2026-10-25 02:00 IST becomes 01:00 GMT: Sunday has 25 hours.
  const BusinessCalendar weekends = CompileCalendar(kDublinWeekends);
  EXPECT_EQ(
      weekends.Between(Local(Dublin(), 2026, 10, 24, 0, 0), Local(Dublin(), 2026, 10, 26, 0, 0)),
      absl::Hours(24 + 25));
  EXPECT_EQ(weekends.Add(Local(Dublin(), 2026, 10, 25, 0, 0), absl::Hours(3)),
            Utc(2026, 10, 25, 2, 0));  // 02:00 GMT, four wall-clock hours later

  // An edge in the repeated hour is its first occurrence: 01:30 IST (00:30
  // GMT) to 02:30 GMT is two hours.
  const BusinessCalendar night =
      CompileCalendar(CalendarText("Europe/Dublin", "WEEKDAY_SUNDAY", "01:30", "02:30"));
  EXPECT_EQ(
      night.Between(Local(Dublin(), 2026, 10, 24, 12, 0), Local(Dublin(), 2026, 10, 26, 12, 0)),
      absl::Hours(2));
  EXPECT_EQ(night.Add(Local(Dublin(), 2026, 10, 24, 12, 0), absl::Minutes(90)),
            Utc(2026, 10, 25, 2, 0));
  // So hours split inside the repeated hour add up to the whole night.
  const BusinessCalendar split = CompileCalendar(R"pb(
    id: "split"
    time_zone: "Europe/Dublin"
    hours { days: WEEKDAY_SUNDAY start: "00:00" end: "01:30" }
    hours { days: WEEKDAY_SUNDAY start: "01:30" end: "03:00" }
  )pb");
  EXPECT_EQ(
      split.Between(Local(Dublin(), 2026, 10, 24, 12, 0), Local(Dublin(), 2026, 10, 26, 12, 0)),
      absl::Hours(4));
}

TEST(BusinessCalendarTest, OfficeHoursAcrossAClockChangeKeepTheirLength) {
  const BusinessCalendar office = CompileCalendar(kDublinOffice);
  // Friday 27 March 16:00 GMT; Monday 30 March 11:30 IST is 10:30 UTC.
  EXPECT_EQ(office.Add(Local(Dublin(), 2026, 3, 27, 16, 0), absl::Hours(4)),
            Utc(2026, 3, 30, 10, 30));
  EXPECT_EQ(office.Add(Local(Dublin(), 2026, 10, 23, 16, 0), absl::Hours(4)),
            Utc(2026, 10, 26, 11, 30));  // 11:30 GMT
}

TEST(BusinessCalendarTest, HoursCanRunToMidnight) {
  const BusinessCalendar evenings = CompileCalendar(CalendarText(
      "Europe/Dublin", "[WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY]", "20:00", "24:00"));
  EXPECT_EQ(evenings.Add(Local(Dublin(), 2026, 3, 9, 23, 0), absl::Hours(2)),
            Local(Dublin(), 2026, 3, 10, 21, 0));
  EXPECT_EQ(evenings.Add(Local(Dublin(), 2026, 3, 9, 20, 0), absl::Hours(4)),
            Local(Dublin(), 2026, 3, 10, 0, 0));
  EXPECT_EQ(
      evenings.Between(Local(Dublin(), 2026, 3, 9, 12, 0), Local(Dublin(), 2026, 3, 10, 22, 0)),
      absl::Hours(6));
}

// Santiago springs forward at midnight (2026-09-06 00:00 becomes 01:00):
// whole weeks skipped in one step must still see that change. Open every
// hour, business time is elapsed time.
TEST(BusinessCalendarTest, AClockChangeAtMidnightIsCountedInSkippedWeeks) {
  const BusinessCalendar always = CompileCalendar(CalendarText(
      "America/Santiago",
      "[WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY, WEEKDAY_FRIDAY, "
      "WEEKDAY_SATURDAY, WEEKDAY_SUNDAY]",
      "00:00", "24:00"));
  const absl::TimeZone santiago = Zone("America/Santiago");
  const absl::Time from = Local(santiago, 2026, 8, 3, 0, 0);
  const absl::Time to = Local(santiago, 2026, 10, 26, 0, 0);
  ASSERT_NE((to - from) % absl::Hours(24), absl::ZeroDuration()) << "a clock change lies between";
  EXPECT_EQ(always.Between(from, to), to - from);
  EXPECT_EQ(always.Add(from, to - from), to);
}

TEST(BusinessCalendarTest, NewYorkOfficeAndClockChanges) {
  const BusinessCalendar office = CompileCalendar(CalendarText(
      "America/New_York",
      "[WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY, WEEKDAY_FRIDAY]",
      "09:00", "17:00"));
  // Friday 6 March 15:00 EST; clocks go forward on Sunday 8 March.
  const absl::Time friday = Local(NewYork(), 2026, 3, 6, 15, 0);
  EXPECT_EQ(office.Add(friday, absl::Hours(4)), Utc(2026, 3, 9, 15, 0));  // 11:00 EDT
  EXPECT_EQ(office.Between(friday, Utc(2026, 3, 9, 15, 0)), absl::Hours(4));

  const BusinessCalendar always = CompileCalendar(CalendarText(
      "America/New_York",
      "[WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY, WEEKDAY_FRIDAY, "
      "WEEKDAY_SATURDAY, WEEKDAY_SUNDAY]",
      "00:00", "24:00"));
  EXPECT_EQ(always.Between(Local(NewYork(), 2026, 3, 8, 0, 0), Local(NewYork(), 2026, 3, 9, 0, 0)),
            absl::Hours(23));
  EXPECT_EQ(
      always.Between(Local(NewYork(), 2026, 11, 1, 0, 0), Local(NewYork(), 2026, 11, 2, 0, 0)),
      absl::Hours(25));
  // Round the clock, business time is every minute, across both changes.
  const absl::Time start = Local(NewYork(), 2026, 1, 1, 0, 0);
  EXPECT_EQ(always.Add(start, absl::Hours(24 * 365)), start + absl::Hours(24 * 365));
  EXPECT_EQ(always.Between(start, start + absl::Hours(24 * 365)), absl::Hours(24 * 365));
}

// 366 days of business time at one hour a week is 8784 weeks, 168 years: the
// walk skips whole weeks, and lands exactly where a day-by-day walk would.
TEST(BusinessCalendarTest, AYearOfBusinessTimeAtOneHourAWeek) {
  // With daylight saving, without it now (Tokyo had it once), and never.
  for (const char* name : {"Europe/Dublin", "Asia/Tokyo", "UTC"}) {
    const absl::TimeZone zone = Zone(name);
    const std::string wednesdays = CalendarText(name, "WEEKDAY_WEDNESDAY", "10:00", "11:00");
    const BusinessCalendar hour = CompileCalendar(wednesdays);
    const absl::Time monday = Local(zone, 2026, 1, 5, 0, 0);
    const absl::Duration year = absl::Hours(24 * 366);
    const absl::CivilDay last_wednesday = absl::CivilDay(2026, 1, 7) + 7 * (24 * 366 - 1);
    const absl::Time deadline = absl::FromCivil(absl::CivilMinute(last_wednesday) + 11 * 60, zone);
    EXPECT_EQ(hour.Add(monday, year), deadline) << name;
    EXPECT_EQ(hour.Between(monday, deadline), year) << name;

    // Each holiday on a Wednesday pushes it a week further.
    const BusinessCalendar with_holidays = CompileCalendar(
        absl::StrCat(wednesdays, R"pb(holidays: [ "2030-01-02", "2100-06-02", "2100-06-03" ])pb"));
    EXPECT_EQ(with_holidays.Add(monday, year),
              absl::FromCivil(absl::CivilMinute(last_wednesday + 14) + 11 * 60, zone))
        << name;
    EXPECT_EQ(with_holidays.Between(monday, with_holidays.Add(monday, year)), year) << name;
  }
}

TEST(BusinessCalendarTest, TheHorizonBoundsHugeTargets) {
  const BusinessCalendar minute =
      CompileCalendar(CalendarText("Europe/Dublin", "WEEKDAY_WEDNESDAY", "10:00", "10:01"));
  const absl::Time start = Local(Dublin(), 2026, 1, 5, 0, 0);
  // 366 days at one minute a week would take 10,000 years.
  EXPECT_EQ(minute.Add(start, absl::Hours(24 * 366)), absl::InfiniteFuture());
  EXPECT_EQ(minute.Add(start, absl::InfiniteDuration()), absl::InfiniteFuture());
  EXPECT_EQ(minute.Between(start, absl::InfiniteFuture()), absl::InfiniteDuration());
  EXPECT_EQ(minute.Add(absl::InfiniteFuture(), absl::Hours(1)), absl::InfiniteFuture());
}

// Calendars whose hours cover daylight-saving nights, holidays and splits.
std::vector<BusinessCalendar> Calendars() {
  return {
      CompileCalendar(kDublinOffice),
      CompileCalendar(kDublinWeekends),
      CompileCalendar(R"pb(
        id: "split-shifts"
        time_zone: "America/New_York"
        hours {
          days: [ WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY ]
          start: "08:00"
          end: "12:00"
        }
        hours {
          days: [ WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY ]
          start: "13:00"
          end: "17:00"
        }
        hours {
          days: [ WEEKDAY_SATURDAY, WEEKDAY_SUNDAY ]
          start: "00:00"
          end: "03:00"
        }
        holidays: [ "2026-07-03", "2026-11-26", "2027-01-01", "2027-11-25" ]
      )pb"),
      CompileCalendar(R"pb(
        id: "nights"
        time_zone: "Europe/Dublin"
        hours {
          days: [ WEEKDAY_SATURDAY, WEEKDAY_SUNDAY ]
          start: "01:30"
          end: "02:30"
        }
        hours { days: WEEKDAY_FRIDAY start: "22:00" end: "24:00" }
        holidays: [ "2026-10-25", "2027-03-28" ]
      )pb"),
  };
}

TEST(BusinessCalendarPropertyTest, BetweenUndoesAdd) {
  const std::vector<BusinessCalendar> calendars = Calendars();
  std::mt19937_64 random(20261025);
  const absl::Time origin = Utc(2026, 1, 1, 0, 0);
  for (int i = 0; i < 4000; ++i) {
    const BusinessCalendar& calendar = calendars[i % calendars.size()];
    const absl::Time a =
        origin + absl::Seconds(std::uniform_int_distribution<int64_t>(0, 2 * 366 * 86400)(random));
    const absl::Duration d =
        absl::Seconds(std::uniform_int_distribution<int64_t>(0, 600 * 3600)(random));
    const absl::Time deadline = calendar.Add(a, d);
    ASSERT_GE(deadline, a);
    ASSERT_EQ(calendar.Between(a, deadline), d)
        << "calendar " << i % calendars.size() << " from " << a << " for " << d;

    // And Add finds the earliest instant with that much business time.
    const absl::Time b =
        a + absl::Seconds(std::uniform_int_distribution<int64_t>(0, 90 * 86400)(random));
    const absl::Duration worked = calendar.Between(a, b);
    const absl::Time reached = calendar.Add(a, worked);
    ASSERT_LE(reached, b) << "calendar " << i % calendars.size() << " from " << a << " to " << b;
    ASSERT_EQ(calendar.Between(a, reached), worked);
  }
}

// An independent count: every minute whose local time falls in the hours of
// its local day. (Hours with an edge inside a skipped or repeated hour follow
// the edge rule instead, so the calendars here have none.)
TEST(BusinessCalendarPropertyTest, BetweenMatchesAMinuteByMinuteCount) {
  const Calendar proto = ParseCalendar(R"pb(
    id: "office-and-weekends"
    time_zone: "Europe/Dublin"
    hours {
      days: [ WEEKDAY_MONDAY, WEEKDAY_TUESDAY, WEEKDAY_WEDNESDAY, WEEKDAY_THURSDAY, WEEKDAY_FRIDAY ]
      start: "09:00"
      end: "17:30"
    }
    hours {
      days: [ WEEKDAY_SATURDAY, WEEKDAY_SUNDAY ]
      start: "00:00"
      end: "24:00"
    }
    holidays: [ "2026-03-17", "2026-04-06", "2026-10-26", "2026-10-25" ]
  )pb");
  const BusinessCalendar calendar = BusinessCalendar::Compile(proto).value();
  const auto working = [&](absl::Time t) {
    const absl::CivilMinute local(Dublin().At(t).cs);
    const absl::CivilDay date(local);
    for (const std::string& holiday : proto.holidays()) {
      if (absl::FormatCivilTime(date) == holiday) return false;
    }
    const int weekday = static_cast<int>(absl::GetWeekday(date)) + 1;
    const int minute = static_cast<int>(local - absl::CivilMinute(date));
    for (const issue::v1::WorkingHours& hours : proto.hours()) {
      const int open =
          std::stoi(hours.start().substr(0, 2)) * 60 + std::stoi(hours.start().substr(3));
      const int close = std::stoi(hours.end().substr(0, 2)) * 60 + std::stoi(hours.end().substr(3));
      for (int day : hours.days()) {
        if (day == weekday && minute >= open && minute < close) return true;
      }
    }
    return false;
  };
  std::mt19937_64 random(17);
  // Spans around both 2026 clock changes and at random.
  std::vector<std::pair<absl::Time, absl::Time>> spans = {
      {Utc(2026, 3, 10, 0, 0), Utc(2026, 4, 10, 0, 0)},
      {Utc(2026, 10, 10, 0, 0), Utc(2026, 11, 10, 0, 0)},
  };
  for (int i = 0; i < 10; ++i) {
    const absl::Time a =
        Utc(2026, 1, 1, 0, 0) +
        absl::Minutes(std::uniform_int_distribution<int64_t>(0, 366 * 1440)(random));
    spans.emplace_back(
        a, a + absl::Minutes(std::uniform_int_distribution<int64_t>(0, 30 * 1440)(random)));
  }
  for (const auto& [a, b] : spans) {
    absl::Duration expected;
    for (absl::Time t = a; t < b; t += absl::Minutes(1)) {
      if (working(t)) expected += absl::Minutes(1);
    }
    EXPECT_EQ(calendar.Between(a, b), expected) << a << " to " << b;
  }
}

// Validation: each case breaks one thing in a valid calendar.
struct ValidationCase {
  std::string what;
  std::function<void(Calendar&)> edit;
  std::string field;
  std::string description;
};

std::vector<std::pair<std::string, std::string>> Violated(const Calendar& calendar) {
  Violations violations;
  BusinessCalendar::Validate(calendar, "ruleset.calendars[0]", violations);
  std::vector<std::pair<std::string, std::string>> out;
  for (const FieldViolation& v : violations.list()) out.emplace_back(v.field, v.description);
  return out;
}

TEST(BusinessCalendarValidationTest, AValidCalendarPasses) {
  EXPECT_THAT(Violated(ParseCalendar(kDublinOffice)), IsEmpty());
  // Hours that touch do not overlap; "24:00" closes at midnight.
  EXPECT_THAT(Violated(ParseCalendar(R"pb(
                id: "touching"
                time_zone: "UTC"
                hours { days: WEEKDAY_MONDAY start: "09:00" end: "12:00" }
                hours { days: WEEKDAY_MONDAY start: "12:00" end: "24:00" }
                hours { days: WEEKDAY_TUESDAY start: "00:00" end: "00:01" }
              )pb")),
              IsEmpty());
}

TEST(BusinessCalendarValidationTest, EachViolationNamesItsField) {
  using issue::v1::WorkingHours;
  const auto first_hours = [](Calendar& c) -> WorkingHours& { return *c.mutable_hours(0); };
  const ValidationCase cases[] = {
      {"no id", [](Calendar& c) { c.clear_id(); }, "ruleset.calendars[0].id", "required"},
      {"bad id", [](Calendar& c) { c.set_id("Dublin Office"); }, "ruleset.calendars[0].id",
       "must match [a-z0-9][a-z0-9._-]{0,62}"},
      {"no zone", [](Calendar& c) { c.clear_time_zone(); }, "ruleset.calendars[0].time_zone",
       "required: an IANA time zone such as Europe/Dublin"},
      {"unknown zone", [](Calendar& c) { c.set_time_zone("Mars/Olympus_Mons"); },
       "ruleset.calendars[0].time_zone",
       "unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as Europe/Dublin"},
      {"machine's zone", [](Calendar& c) { c.set_time_zone("localtime"); },
       "ruleset.calendars[0].time_zone",
       "unknown time zone \"localtime\"; use an IANA name such as Europe/Dublin"},
      {"a directory of zones", [](Calendar& c) { c.set_time_zone("America"); },
       "ruleset.calendars[0].time_zone",
       "unknown time zone \"America\"; use an IANA name such as Europe/Dublin"},
      {"a path", [](Calendar& c) { c.set_time_zone("../../../etc/passwd"); },
       "ruleset.calendars[0].time_zone",
       "unknown time zone \"../../../etc/passwd\"; use an IANA name such as Europe/Dublin"},
      {"no hours", [](Calendar& c) { c.clear_hours(); }, "ruleset.calendars[0].hours",
       "at least one WorkingHours entry is required"},
      {"no days", [&](Calendar& c) { first_hours(c).clear_days(); },
       "ruleset.calendars[0].hours[0].days", "at least one day is required"},
      {"unspecified day",
       [&](Calendar& c) { first_hours(c).add_days(issue::v1::WEEKDAY_UNSPECIFIED); },
       "ruleset.calendars[0].hours[0].days[5]",
       "required: a Weekday other than WEEKDAY_UNSPECIFIED"},
      {"unknown day",
       [&](Calendar& c) { first_hours(c).add_days(static_cast<issue::v1::Weekday>(9)); },
       "ruleset.calendars[0].hours[0].days[5]", "unknown Weekday value 9"},
      {"a day twice", [&](Calendar& c) { first_hours(c).add_days(issue::v1::WEEKDAY_MONDAY); },
       "ruleset.calendars[0].hours[0].days[5]", "WEEKDAY_MONDAY is named twice"},
      {"no start", [&](Calendar& c) { first_hours(c).clear_start(); },
       "ruleset.calendars[0].hours[0].start", "required: HH:MM from 00:00 to 23:59"},
      {"short start", [&](Calendar& c) { first_hours(c).set_start("9:00"); },
       "ruleset.calendars[0].hours[0].start", "must be HH:MM from 00:00 to 23:59"},
      {"start at midnight", [&](Calendar& c) { first_hours(c).set_start("24:00"); },
       "ruleset.calendars[0].hours[0].start", "must be HH:MM from 00:00 to 23:59"},
      {"no end", [&](Calendar& c) { first_hours(c).clear_end(); },
       "ruleset.calendars[0].hours[0].end", "required: HH:MM up to 24:00"},
      {"minute 60", [&](Calendar& c) { first_hours(c).set_end("17:60"); },
       "ruleset.calendars[0].hours[0].end", "must be HH:MM from 00:00 to 24:00"},
      {"past midnight", [&](Calendar& c) { first_hours(c).set_end("24:30"); },
       "ruleset.calendars[0].hours[0].end", "must be HH:MM from 00:00 to 24:00"},
      {"end before start", [&](Calendar& c) { first_hours(c).set_end("08:00"); },
       "ruleset.calendars[0].hours[0].end",
       "must be after start 09:00; hours do not run past midnight, so split a night shift into "
       "two entries"},
      {"end at start", [&](Calendar& c) { first_hours(c).set_end("09:00"); },
       "ruleset.calendars[0].hours[0].end",
       "must be after start 09:00; hours do not run past midnight, so split a night shift into "
       "two entries"},
      {"overlap",
       [](Calendar& c) {
         WorkingHours& lunch = *c.add_hours();
         lunch.add_days(issue::v1::WEEKDAY_SATURDAY);
         lunch.add_days(issue::v1::WEEKDAY_MONDAY);
         lunch.add_days(issue::v1::WEEKDAY_FRIDAY);
         lunch.set_start("12:00");
         lunch.set_end("13:00");
       },
       "ruleset.calendars[0].hours[1]",
       "12:00-13:00 overlaps hours[0] (09:00-17:30) on WEEKDAY_MONDAY, WEEKDAY_FRIDAY"},
      {"bad date", [](Calendar& c) { c.add_holidays("17/03/2026"); },
       "ruleset.calendars[0].holidays[1]", "must be a date YYYY-MM-DD"},
      {"no such date", [](Calendar& c) { c.add_holidays("2026-02-29"); },
       "ruleset.calendars[0].holidays[1]", "must be a date YYYY-MM-DD"},
      {"date with a space", [](Calendar& c) { c.add_holidays(" 2026-03-18"); },
       "ruleset.calendars[0].holidays[1]", "must be a date YYYY-MM-DD"},
      {"duplicate date", [](Calendar& c) { c.add_holidays("2026-03-17"); },
       "ruleset.calendars[0].holidays[1]", "duplicate holiday 2026-03-17 (also holidays[0])"},
      {"eight days",
       [&](Calendar& c) {
         for (int day = 1; day <= 3; ++day) first_hours(c).add_days(issue::v1::Weekday(day));
       },
       "ruleset.calendars[0].hours[0].days", "at most 7 days"},
      {"too many hours",
       [](Calendar& c) {
         for (int i = 0; i < kMaxCalendarHours; ++i) *c.add_hours() = c.hours(0);
       },
       "ruleset.calendars[0].hours", "at most 100 entries"},
      {"too many holidays",
       [](Calendar& c) {
         for (int i = 0; i < kMaxCalendarHolidays; ++i) {
           c.add_holidays(absl::FormatCivilTime(absl::CivilDay(2030, 1, 1) + i));
         }
       },
       "ruleset.calendars[0].holidays", "at most 1000 holidays"},
  };
  for (const ValidationCase& c : cases) {
    Calendar calendar = ParseCalendar(kDublinOffice);
    c.edit(calendar);
    EXPECT_THAT(Violated(calendar), ElementsAre(Pair(c.field, c.description))) << c.what;
  }
}

TEST(BusinessCalendarValidationTest, EveryViolationIsListed) {
  EXPECT_THAT(
      Violated(ParseCalendar(R"pb(
        time_zone: "Nowhere"
        hours { start: "9" end: "17:00" }
        holidays: "tomorrow"
      )pb")),
      ElementsAre(Pair("ruleset.calendars[0].id", "required"),
                  Pair("ruleset.calendars[0].time_zone",
                       "unknown time zone \"Nowhere\"; use an IANA name such as "
                       "Europe/Dublin"),
                  Pair("ruleset.calendars[0].hours[0].days", "at least one day is required"),
                  Pair("ruleset.calendars[0].hours[0].start", "must be HH:MM from 00:00 to 23:59"),
                  Pair("ruleset.calendars[0].holidays[0]", "must be a date YYYY-MM-DD")));
}

TEST(BusinessCalendarValidationTest, CompileRefusesWhatValidateRefuses) {
  Calendar calendar = ParseCalendar(kDublinOffice);
  calendar.set_time_zone("Europe/Atlantis");
  const absl::StatusOr<BusinessCalendar> compiled = BusinessCalendar::Compile(calendar);
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(GetFieldViolations(compiled.status()).size(), 1u);
  EXPECT_EQ(GetFieldViolations(compiled.status())[0].field, "calendar.time_zone");
}

SlaTerms Terms(issue::v1::SlaClock clock, const std::string& calendar) {
  SlaTerms terms;
  terms.set_clock(clock);
  *terms.mutable_calendar() = ParseCalendar(calendar);
  return terms;
}

TEST(SlaTimelineTest, CalendarClockCountsEveryMinute) {
  const absl::Time friday = Local(Dublin(), 2026, 11, 13, 16, 0);
  for (issue::v1::SlaClock clock :
       {issue::v1::SLA_CLOCK_UNSPECIFIED, issue::v1::SLA_CLOCK_CALENDAR}) {
    const SlaTimeline timeline = SlaTimeline::Of(Terms(clock, kDublinOffice));
    EXPECT_FALSE(timeline.business());
    EXPECT_EQ(timeline.Add(friday, absl::Hours(4)), friday + absl::Hours(4));
    EXPECT_EQ(timeline.Add(friday, -absl::Hours(4)), friday);
    EXPECT_EQ(timeline.Between(friday, friday + absl::Hours(4)), absl::Hours(4));
    EXPECT_EQ(timeline.Between(friday, friday - absl::Hours(4)), absl::ZeroDuration());
  }
}

TEST(SlaTimelineTest, BusinessClockCountsTheCalendarsHours) {
  const SlaTimeline timeline = SlaTimeline::Of(Terms(issue::v1::SLA_CLOCK_BUSINESS, kDublinOffice));
  EXPECT_TRUE(timeline.business());
  const absl::Time friday = Local(Dublin(), 2026, 11, 13, 16, 0);
  const absl::Time monday = Local(Dublin(), 2026, 11, 16, 11, 30);
  EXPECT_EQ(timeline.Add(friday, absl::Hours(4)), monday);
  EXPECT_EQ(timeline.Between(friday, monday), absl::Hours(4));
}

TEST(SlaTimelineTest, ABusinessClockWhoseCalendarDoesNotCompileCountsCalendarTime) {
  for (const char* calendar : {"", R"pb(id: "gone" time_zone: "Europe/Atlantis")pb"}) {
    const SlaTimeline timeline = SlaTimeline::Of(Terms(issue::v1::SLA_CLOCK_BUSINESS, calendar));
    EXPECT_FALSE(timeline.business()) << calendar;
    const absl::Time now = Utc(2026, 11, 13, 16, 0);
    EXPECT_EQ(timeline.Add(now, absl::Hours(4)), now + absl::Hours(4));
  }
}

}  // namespace
}  // namespace switchboard
