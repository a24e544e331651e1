//! Working days: Monday to Friday, minus Dutch public holidays (when configured) and the extra
//! closing days in `helpdesk.toml`.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use site_builder::config::Holidays;

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
}

impl Calendar {
    pub fn new(holidays: Holidays) -> Self {
        Self { holidays }
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

    #[test]
    fn kings_day_moves_back_from_sunday() {
        assert!(dutch_public_holidays(2025).contains(&date(2025, 4, 26)));
        assert!(dutch_public_holidays(2026).contains(&date(2026, 4, 27)));
    }
}
