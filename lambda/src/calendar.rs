//! Working days: Monday to Friday, minus Dutch public holidays (when configured) and the extra
//! closing days in `helpdesk.toml`.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Europe::Amsterdam;
use site_builder::config::{Holidays, OfficeHours};

fn office_day(hours: &OfficeHours, day: NaiveDate) -> bool {
    use site_builder::config::Weekday as W;
    let w = match day.weekday() {
        Weekday::Mon => W::Mon,
        Weekday::Tue => W::Tue,
        Weekday::Wed => W::Wed,
        Weekday::Thu => W::Thu,
        Weekday::Fri => W::Fri,
        Weekday::Sat => W::Sat,
        Weekday::Sun => W::Sun,
    };
    hours.days.contains(&w)
}

/// Easter Sunday (Gregorian calendar; the anonymous algorithm).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// The Dutch public holidays on which offices close: New Year's Day, Good Friday, Easter
/// Monday, King's Day (27 April, or the 26th when that is a Sunday), Liberation Day (5 May),
/// Ascension Day, Whit Monday, Christmas Day and Boxing Day.
pub fn dutch_public_holidays(year: i32) -> Vec<NaiveDate> {
    let d = |m, day| NaiveDate::from_ymd_opt(year, m, day).unwrap_or_default();
    let e = easter(year);
    let king = if d(4, 27).weekday() == Weekday::Sun { d(4, 26) } else { d(4, 27) };
    vec![
        d(1, 1),
        e - Days::new(2),
        e + Days::new(1),
        king,
        d(5, 5),
        e + Days::new(39),
        e + Days::new(50),
        d(12, 25),
        d(12, 26),
    ]
}

#[derive(Debug, Clone)]
pub struct Calendar {
    holidays: Holidays,
    /// When the working day ends: a question that comes in later counts from the next one.
    closes: NaiveTime,
}

impl Calendar {
    pub fn new(holidays: Holidays) -> Self {
        Self { holidays, closes: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default() }
    }

    /// The end of the working day (office hours' closing time).
    pub fn closing_at(mut self, closes: NaiveTime) -> Self {
        self.closes = closes;
        self
    }

    /// The day by which a question that came in at `filed` should be answered: `n` working days
    /// after the working day it counts from (in Amsterdam). A question that comes in on a
    /// weekend, a holiday or after closing time counts from the next working day, so Friday
    /// evening's question is due a week from Monday, like Monday morning's.
    pub fn due_date(&self, filed: DateTime<Utc>, n: u32) -> NaiveDate {
        let local = filed.with_timezone(&Amsterdam);
        let mut start = local.date_naive();
        if !self.is_working_day(start) || local.time() >= self.closes {
            start = self.next_working_day(start);
        }
        self.add_working_days(start, n)
    }

    /// The first working day after `day`.
    pub fn next_working_day(&self, day: NaiveDate) -> NaiveDate {
        self.add_working_days(day, 1)
    }

    /// Working days from `from` to `to` (negative when `to` lies before `from`): how much time
    /// is left until a due day, or how late it is.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (lo, hi, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
        let mut n = 0;
        let mut day = lo;
        while day < hi {
            day = day + Days::new(1);
            if self.is_working_day(day) {
                n += 1;
            }
        }
        sign * n
    }

    /// Whether the office (and the phone line) is open at `now`: a working day, one of the
    /// office days, between opening and closing time, all in Amsterdam.
    pub fn is_open(&self, now: DateTime<Utc>, hours: &OfficeHours) -> bool {
        let local = now.with_timezone(&Amsterdam);
        let day = local.date_naive();
        let time = local.time();
        self.is_working_day(day) && office_day(hours, day) && time >= hours.opens && time < hours.closes
    }

    /// When the office opens next (now, if it is open), in Amsterdam.
    pub fn next_opening(&self, now: DateTime<Utc>, hours: &OfficeHours) -> Option<chrono::NaiveDateTime> {
        let local = now.with_timezone(&Amsterdam).naive_local();
        let mut day = local.date();
        for _ in 0..370 {
            if self.is_working_day(day) && office_day(hours, day) {
                let opens = day.and_time(hours.opens);
                let closes = day.and_time(hours.closes);
                if local < closes {
                    return Some(opens.max(local));
                }
            }
            day = day + Days::new(1);
        }
        None
    }

    /// Today in Amsterdam.
    pub fn today(now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&Amsterdam).date_naive()
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) || self.holidays.extra.contains(&day) {
            return false;
        }
        !(self.holidays.dutch_public && dutch_public_holidays(day.year()).contains(&day))
    }

    /// The day `n` working days after `from` (a question asked on Friday with n = 5 is due
    /// the next Friday, holidays skipped).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            day = day + Days::new(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn calendar() -> Calendar {
        Calendar::new(Holidays { dutch_public: true, extra: vec![date(2026, 12, 31)] })
    }

    #[test]
    fn easter_dates() {
        assert_eq!(easter(2024), date(2024, 3, 31));
        assert_eq!(easter(2026), date(2026, 4, 5));
        assert_eq!(easter(2027), date(2027, 3, 28));
    }

    #[test]
    fn five_working_days_skip_weekends_and_holidays() {
        let c = calendar();
        // Monday 23 November 2026 -> Monday 30 November.
        assert_eq!(c.add_working_days(date(2026, 11, 23), 5), date(2026, 11, 30));
        // Friday 27 November -> Friday 4 December.
        assert_eq!(c.add_working_days(date(2026, 11, 27), 5), date(2026, 12, 4));
        // Over Christmas and the extra closing day on New Year's Eve: Wed 23 Dec 2026 ->
        // 24, 28, 29, 30 Dec, 4 Jan (25/26 Dec, 31 Dec, 1 Jan closed).
        assert_eq!(c.add_working_days(date(2026, 12, 23), 5), date(2027, 1, 4));
        // Easter 2026: Thursday 2 April -> 3 (Good Friday) and 6 (Easter Monday) April closed.
        assert_eq!(c.add_working_days(date(2026, 4, 2), 1), date(2026, 4, 7));
    }

    fn at(y: i32, m: u32, d: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Amsterdam.with_ymd_and_hms(y, m, d, hour, minute, 0).single().expect("local time").with_timezone(&Utc)
    }

    #[test]
    fn easter_based_holidays_are_skipped() {
        let c = calendar();
        let h = dutch_public_holidays(2027);
        // Easter 2027 is 28 March: Good Friday 26 March, Easter Monday 29 March, Ascension
        // 6 May, Whit Monday 17 May.
        for d in [date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 6), date(2027, 5, 17)] {
            assert!(h.contains(&d), "{d} is a holiday");
            assert!(!c.is_working_day(d), "{d} is no working day");
        }
        // Thursday 25 March 2027 + 1 -> Tuesday 30 March (Good Friday, weekend, Easter Monday).
        assert_eq!(c.add_working_days(date(2027, 3, 25), 1), date(2027, 3, 30));
        // Wednesday 5 May 2027 (Liberation Day) + 2: Ascension Thursday 6 May is skipped,
        // Friday 7 May is the first, Monday 10 May the second.
        assert_eq!(c.add_working_days(date(2027, 5, 5), 2), date(2027, 5, 10));
        // Friday 14 May 2027 + 1 -> Tuesday 18 May (Whit Monday 17 May).
        assert_eq!(c.add_working_days(date(2027, 5, 14), 1), date(2027, 5, 18));
    }

    #[test]
    fn christmas_and_new_year_across_the_year_boundary() {
        let c = Calendar::new(Holidays { dutch_public: true, extra: vec![] });
        // Thursday 23 December 2027: 24 (Fri), then 27, 28, 29, 30, 31 December (Christmas and
        // Boxing Day are a weekend in 2027), 1 January 2028 is a Saturday.
        assert_eq!(c.add_working_days(date(2027, 12, 23), 5), date(2027, 12, 30));
        // Wednesday 23 December 2026: 24, 28, 29, 30, 31 December (25/26 closed), New Year's
        // Day 2027 (Friday) closed.
        assert_eq!(c.add_working_days(date(2026, 12, 23), 6), date(2027, 1, 4));
        assert!(!c.is_working_day(date(2027, 1, 1)));
    }

    #[test]
    fn kings_day_on_a_sunday_moves_to_the_26th() {
        // 27 April 2025 was a Sunday: King's Day was Saturday 26 April. In 2031 the 27th is a
        // Sunday again and the 26th a Saturday; in 2036 the 27th is a Sunday too.
        for year in [2025, 2031, 2036] {
            assert_eq!(date(year, 4, 27).weekday(), Weekday::Sun);
            let h = dutch_public_holidays(year);
            assert!(h.contains(&date(year, 4, 26)) && !h.contains(&date(year, 4, 27)), "{year}");
        }
        // On a weekday it is the 27th and closed: Tuesday 27 April 2027.
        let c = calendar();
        assert!(!c.is_working_day(date(2027, 4, 27)));
        assert_eq!(c.add_working_days(date(2027, 4, 26), 1), date(2027, 4, 28));
    }

    #[test]
    fn due_dates_count_from_the_working_day_a_question_arrives() {
        let c = Calendar::new(Holidays { dutch_public: true, extra: vec![] });
        // Monday 30 November 2026, 10:00 -> Monday 7 December.
        assert_eq!(c.due_date(at(2026, 11, 30, 10, 0), 5), date(2026, 12, 7));
        // Friday 4 December 2026 at 10:00 -> Friday 11 December; at 20:00 (after closing)
        // it counts from Monday 7 December -> Monday 14 December.
        assert_eq!(c.due_date(at(2026, 12, 4, 10, 0), 5), date(2026, 12, 11));
        assert_eq!(c.due_date(at(2026, 12, 4, 20, 0), 5), date(2026, 12, 14));
        // Saturday counts from Monday too.
        assert_eq!(c.due_date(at(2026, 12, 5, 11, 0), 5), date(2026, 12, 14));
        // On a holiday (Easter Monday 6 April 2026) it counts from Tuesday 7 April -> 14 April.
        assert_eq!(c.due_date(at(2026, 4, 6, 11, 0), 5), date(2026, 4, 14));
        // Amsterdam time decides, not UTC: 23:30 UTC on Sunday 29 November is already Monday
        // 00:30 in Amsterdam, before closing -> Monday 7 December.
        let utc = DateTime::parse_from_rfc3339("2026-11-29T23:30:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(c.due_date(utc, 5), date(2026, 12, 7));
    }

    #[test]
    fn office_hours_open_and_close() {
        use site_builder::config::Weekday as W;
        let hours = OfficeHours {
            timezone: "Europe/Amsterdam".into(),
            days: vec![W::Mon, W::Tue, W::Wed, W::Thu, W::Fri],
            opens: NaiveTime::from_hms_opt(8, 30, 0).expect("time"),
            closes: NaiveTime::from_hms_opt(17, 0, 0).expect("time"),
        };
        let c = Calendar::new(Holidays { dutch_public: true, extra: vec![] });
        assert!(c.is_open(at(2026, 12, 2, 10, 0), &hours), "Wednesday morning");
        assert!(!c.is_open(at(2026, 12, 2, 8, 29), &hours), "before opening");
        assert!(!c.is_open(at(2026, 12, 2, 17, 0), &hours), "at closing");
        assert!(!c.is_open(at(2026, 12, 5, 11, 0), &hours), "Saturday");
        assert!(!c.is_open(at(2027, 4, 27, 11, 0), &hours), "King's Day");
        assert!(!c.is_open(at(2026, 12, 25, 11, 0), &hours), "Christmas");
        let next = |t| c.next_opening(t, &hours).expect("opens").format("%Y-%m-%d %H:%M").to_string();
        assert_eq!(next(at(2026, 12, 4, 18, 0)), "2026-12-07 08:30", "Friday evening: Monday");
        assert_eq!(next(at(2026, 12, 24, 18, 0)), "2026-12-28 08:30", "over Christmas");
        assert_eq!(next(at(2026, 12, 2, 10, 0)), "2026-12-02 10:00", "open now");
    }

    #[test]
    fn working_days_left_and_late() {
        let c = calendar();
        assert_eq!(c.working_days_between(date(2026, 11, 30), date(2026, 12, 7)), 5);
        assert_eq!(c.working_days_between(date(2026, 12, 7), date(2026, 11, 30)), -5);
        assert_eq!(c.working_days_between(date(2026, 12, 4), date(2026, 12, 4)), 0);
    }

    #[test]
    fn kings_day_moves_back_from_sunday() {
        assert!(dutch_public_holidays(2025).contains(&date(2025, 4, 26)));
        assert!(dutch_public_holidays(2026).contains(&date(2026, 4, 27)));
    }
}
