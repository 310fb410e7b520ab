//! Moldovan working days, for the deadlines of the procedure.
//!
//! Monday to Friday, less the public holidays of the Labour Code art. 111 —
//! 1 January, 7–8 January, 8 March, Orthodox Easter Sunday and Monday,
//! Paștele Blajinilor (Easter + 8 days), 1 May, 9 May, 1 June (from 2023),
//! 27 August, 31 August and 25 December (from 2013). A holiday on a weekend
//! is not moved. The Government moves days each year (a Saturday worked for
//! a Monday off): those come from `rules/calendar.toml`. Counting starts the
//! day after the given date, which itself never counts. Covers 2000–2100.
//!
//! Pure: dates in, dates out. Times are turned into dates in Europe/Chisinau
//! by the caller ([`TZ`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::Deserialize;

/// The years the calendar answers for.
/// The time zone AGE works in; case years and dates follow it.
pub const TZ: chrono_tz::Tz = chrono_tz::Europe::Chisinau;

/// AGE's date at `now` (Europe/Chisinau).
pub fn today(now: DateTime<Utc>) -> chrono::NaiveDate {
    now.with_timezone(&TZ).date_naive()
}

/// The year case numbers of mail arriving at `now` carry (AGE's local year).
pub fn case_year(now: DateTime<Utc>) -> i32 {
    now.with_timezone(&TZ).year()
}

pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2100;

/// Per-year changes decided by the Government.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    /// Extra days off (working days made non-working).
    days_off: BTreeSet<NaiveDate>,
    /// Weekend days worked (a Saturday worked for a Monday off).
    working_days: BTreeSet<NaiveDate>,
    /// Extra public holidays declared for one year.
    holidays: BTreeSet<NaiveDate>,
}

/// `rules/calendar.toml`: `[years.2026] days_off = [...]`, `working_days = [...]`, `holidays = [...]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    #[serde(default)]
    pub years: BTreeMap<String, YearChanges>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearChanges {
    #[serde(default)]
    pub days_off: Vec<NaiveDate>,
    #[serde(default)]
    pub working_days: Vec<NaiveDate>,
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

impl CalendarFile {
    /// Checks each year's changes; returns the calendar or the problems.
    pub fn into_calendar(self) -> Result<Calendar, Vec<String>> {
        let mut problems = Vec::new();
        let mut cal = Calendar::default();
        for (year, changes) in self.years {
            let Ok(y) = year.parse::<i32>() else {
                problems.push(format!("[years.{year}]: not a year"));
                continue;
            };
            let all = changes
                .days_off
                .iter()
                .chain(&changes.working_days)
                .chain(&changes.holidays);
            for d in all {
                if d.year() != y {
                    problems.push(format!("[years.{year}]: {d} is not in {year}"));
                }
            }
            for d in &changes.working_days {
                if !is_weekend(*d) {
                    problems.push(format!(
                        "[years.{year}]: working day {d} is not a Saturday or Sunday"
                    ));
                }
            }
            cal.days_off.extend(changes.days_off);
            cal.working_days.extend(changes.working_days);
            cal.holidays.extend(changes.holidays);
        }
        if problems.is_empty() {
            Ok(cal)
        } else {
            Err(problems)
        }
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Orthodox Easter Sunday (Gregorian date): the Julian computus, then the
/// Julian–Gregorian difference (13 days until February 2100, 14 after).
pub fn orthodox_easter(year: i32) -> NaiveDate {
    let a = year.rem_euclid(4);
    let b = year.rem_euclid(7);
    let c = year.rem_euclid(19);
    let d = (19 * c + 15) % 30;
    let e = (2 * a + 4 * b - d + 34) % 7;
    let month = (d + e + 114) / 31;
    let day = (d + e + 114) % 31 + 1;
    let julian = NaiveDate::from_ymd_opt(year, month as u32, day as u32)
        .expect("computus gives a valid date");
    let shift = if year >= 2100 { 14 } else { 13 };
    julian + Duration::days(shift)
}

/// A public holiday of the Labour Code (without the yearly changes).
pub fn is_statutory_holiday(d: NaiveDate) -> bool {
    let (y, m, day) = (d.year(), d.month(), d.day());
    let fixed = matches!(
        (m, day),
        (1, 1) | (1, 7) | (1, 8) | (3, 8) | (5, 1) | (5, 9) | (8, 27) | (8, 31)
    ) || (m == 6 && day == 1 && y >= 2023)
        || (m == 12 && day == 25 && y >= 2013);
    if fixed {
        return true;
    }
    let easter = orthodox_easter(y);
    d == easter || d == easter + Duration::days(1) || d == easter + Duration::days(8)
}

impl Calendar {
    pub fn is_holiday(&self, d: NaiveDate) -> bool {
        is_statutory_holiday(d) || self.holidays.contains(&d)
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.working_days.contains(&d) {
            return true;
        }
        !is_weekend(d) && !self.is_holiday(d) && !self.days_off.contains(&d)
    }

    /// The `n`th working day after `from` (`from` itself never counts).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The `n`th calendar day after `from`, moved forward to the next
    /// working day when it falls on a non-working one.
    pub fn add_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from + Duration::days(i64::from(n));
        while !self.is_working_day(d) {
            d += Duration::days(1);
        }
        d
    }

    /// Working days from `from` (exclusive) to `to` (inclusive); negative
    /// when `to` is before `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (start, end, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0;
        let mut d = start;
        while d < end {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        sign * n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn orthodox_easter_known_dates() {
        for (year, easter) in [
            (2000, "2000-04-30"),
            (2008, "2008-04-27"),
            (2010, "2010-04-04"),
            (2016, "2016-05-01"),
            (2021, "2021-05-02"),
            (2023, "2023-04-16"),
            (2024, "2024-05-05"),
            (2025, "2025-04-20"),
            (2026, "2026-04-12"),
            (2027, "2027-05-02"),
            (2099, "2099-04-12"),
            (2100, "2100-05-02"),
        ] {
            assert_eq!(orthodox_easter(year), date(easter), "{year}");
        }
    }

    #[test]
    fn holidays_table() {
        let cal = Calendar::default();
        for (d, holiday) in [
            ("2026-04-12", true), // Easter Sunday
            ("2026-04-13", true), // Easter Monday
            ("2026-04-20", true), // Paștele Blajinilor
            ("2026-04-21", false),
            ("2027-05-10", true),  // Blajini 2027
            ("2022-06-01", false), // 1 June before 2023
            ("2023-06-01", true),
            ("2012-12-25", false),
            ("2013-12-25", true),
            ("2026-01-07", true),
            ("2026-01-08", true),
            ("2026-08-27", true),
            ("2026-08-31", true),
            ("2026-05-09", true),
        ] {
            assert_eq!(cal.is_holiday(date(d)), holiday, "{d}");
        }
        // A holiday on a weekend is not moved: 9 May 2026 is a Saturday, 11 May works.
        assert!(cal.is_working_day(date("2026-05-11")));
    }

    #[test]
    fn working_days_table() {
        let cal = Calendar::default();
        for (from, n, want) in [
            // The given date never counts, even when it is a working day.
            ("2026-11-24", 1, "2026-11-25"),
            ("2026-11-24", 10, "2026-12-08"),
            // Across the year end: 25 Dec, weekend, 1 Jan, 7–8 Jan.
            ("2026-12-23", 1, "2026-12-24"),
            ("2026-12-24", 1, "2026-12-28"),
            ("2026-12-24", 10, "2027-01-13"),
            // Across Easter and Blajini 2026.
            ("2026-04-09", 3, "2026-04-15"),
            ("2026-04-16", 2, "2026-04-21"),
            // From a Saturday.
            ("2026-11-28", 1, "2026-11-30"),
            ("2026-11-24", 0, "2026-11-24"),
        ] {
            assert_eq!(
                cal.add_working_days(date(from), n),
                date(want),
                "{from} + {n}"
            );
        }
        for (from, n, want) in [
            ("2026-11-24", 30, "2026-12-24"),
            ("2026-11-25", 30, "2026-12-28"), // 25 Dec holiday, then the weekend
            ("2026-12-02", 30, "2027-01-04"), // 1 Jan holiday, weekend
            ("2026-03-14", 30, "2026-04-14"), // 13 Apr is Easter Monday
        ] {
            assert_eq!(cal.add_days(date(from), n), date(want), "{from} + {n} days");
        }
        assert_eq!(
            cal.working_days_between(date("2026-11-24"), date("2026-12-08")),
            10
        );
        assert_eq!(
            cal.working_days_between(date("2026-12-08"), date("2026-11-24")),
            -10
        );
    }

    #[test]
    fn government_transfers_come_from_the_rules() {
        let file: CalendarFile = toml::from_str(
            r#"
[years.2026]
days_off = ["2026-01-02"]
working_days = ["2026-01-10"]
holidays = ["2026-06-02"]
"#,
        )
        .unwrap();
        let cal = file.into_calendar().unwrap();
        assert!(!cal.is_working_day(date("2026-01-02")));
        assert!(cal.is_working_day(date("2026-01-10")));
        assert!(!cal.is_working_day(date("2026-06-02")));
        // 1 January is a holiday and 2 January was given off: the next
        // working day after 31 December 2025 is Monday 5 January.
        assert_eq!(
            cal.add_working_days(date("2025-12-31"), 1),
            date("2026-01-05")
        );
        assert_eq!(
            cal.add_working_days(date("2026-01-09"), 1),
            date("2026-01-10")
        );

        let bad: CalendarFile = toml::from_str(
            "[years.2026]\nworking_days = [\"2026-01-12\"]\ndays_off = [\"2027-01-01\"]\n",
        )
        .unwrap();
        let problems = bad.into_calendar().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn every_year_of_the_range_has_its_holidays_and_answers() {
        let cal = Calendar::default();
        for year in FIRST_YEAR..=LAST_YEAR {
            let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            let holidays = (0..366)
                .map(|i| start + Duration::days(i))
                .filter(|d| d.year() == year && cal.is_holiday(*d))
                .count();
            // Easter may fall on 1 May (2005) or 9 May, so a year can count one less.
            assert!(holidays >= 9, "{year}: {holidays}");
            let end = cal.add_working_days(start, 250);
            assert!(end.year() <= year + 1);
        }
    }

    #[test]
    fn case_year_follows_chisinau() {
        // 23:30 UTC on 31 December is already New Year in Chișinău.
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 12, 31, 23, 30, 0)
            .unwrap();
        assert_eq!(case_year(t), 2027);
    }
}
