//! Figures for agents and admins: tickets filed and solved per week, the share answered within
//! the working-day target, the median time to a first answer, and the ratings per agent, per
//! sector and per week with their comments.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;
use serde::Serialize;

use super::{Service, ServiceError};
use crate::model::*;

/// One ISO week's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Week {
    /// Monday of the week.
    pub start: NaiveDate,
    /// `2026-W49`.
    pub label: String,
    pub filed: u64,
    /// Tickets resolved or closed whose (last) resolution fell in this week.
    pub solved: u64,
    /// Of the tickets filed this week that have been answered: how many within the target.
    pub answered: u64,
    pub within_target: u64,
    /// Median hours from filing to the first answer, of tickets filed this week.
    pub median_first_answer_hours: Option<f64>,
    pub satisfied: u64,
    pub neutral: u64,
    pub dissatisfied: u64,
}

/// Ratings of one agent or one sector.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RatingCount {
    pub name: String,
    pub satisfied: u64,
    pub neutral: u64,
    pub dissatisfied: u64,
}

impl RatingCount {
    fn add(&mut self, r: Rating) {
        match r {
            Rating::Satisfied => self.satisfied += 1,
            Rating::Neutral => self.neutral += 1,
            Rating::Dissatisfied => self.dissatisfied += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.satisfied + self.neutral + self.dissatisfied
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub weeks: Vec<Week>,
    pub filed: u64,
    pub answered: u64,
    pub within_target: u64,
    pub median_first_answer_hours: Option<f64>,
    pub per_agent: Vec<RatingCount>,
    pub per_sector: Vec<RatingCount>,
    /// Ratings with a comment, newest first.
    pub comments: Vec<Evaluation>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] })
}

/// Monday of the week `t` falls in, in Amsterdam.
fn week_of(t: DateTime<Utc>) -> NaiveDate {
    let day = t.with_timezone(&Amsterdam).date_naive();
    day - Duration::days(day.weekday().num_days_from_monday().into())
}

impl Service {
    /// The last `weeks` ISO weeks up to now (Amsterdam), oldest first.
    pub async fn report(&self, weeks: u32) -> Result<Report, ServiceError> {
        let now = self.clock.now();
        let this_week = week_of(now);
        let first = this_week - Duration::weeks(i64::from(weeks.max(1)) - 1);
        let from = first
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_local_timezone(Amsterdam).earliest())
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or(now);
        // Tickets solved in the window may have been filed a while before it.
        let tickets = self.store.tickets_created(from - Duration::weeks(26), now + Duration::seconds(1)).await?;
        let ratings = self.store.evaluations_created(from, now + Duration::seconds(1)).await?;
        let mut by_week: BTreeMap<NaiveDate, (Week, Vec<f64>)> = BTreeMap::new();
        for i in 0..weeks.max(1) {
            let start = first + Duration::weeks(i.into());
            let iso = start.iso_week();
            let label = format!("{}-W{:02}", iso.year(), iso.week());
            by_week.insert(start, (Week { start, label, ..Default::default() }, Vec::new()));
        }
        let target = self.config.tickets.target_working_days;
        let mut all_hours = Vec::new();
        let mut report = Report::default();
        for t in &tickets {
            if let Some(at) = t.resolved_at.filter(|_| matches!(t.state, TicketState::Resolved | TicketState::Closed))
                && let Some((w, _)) = by_week.get_mut(&week_of(at))
            {
                w.solved += 1;
            }
            let Some((w, hours)) = by_week.get_mut(&week_of(t.created)) else { continue };
            w.filed += 1;
            report.filed += 1;
            if let Some(answer) = t.first_answer {
                // The target as it stood when the question came in.
                let due = self.calendar.due_date(t.created, target);
                let on_time = answer.with_timezone(&Amsterdam).date_naive() <= due;
                let h = (answer - t.created).num_seconds() as f64 / 3600.0;
                w.answered += 1;
                w.within_target += u64::from(on_time);
                report.answered += 1;
                report.within_target += u64::from(on_time);
                hours.push(h);
                all_hours.push(h);
            }
        }
        let mut agents: BTreeMap<String, RatingCount> = BTreeMap::new();
        let mut sectors: BTreeMap<String, RatingCount> = BTreeMap::new();
        for e in &ratings {
            if let Some((w, _)) = by_week.get_mut(&week_of(e.created)) {
                match e.rating {
                    Rating::Satisfied => w.satisfied += 1,
                    Rating::Neutral => w.neutral += 1,
                    Rating::Dissatisfied => w.dissatisfied += 1,
                }
            }
            agents
                .entry(e.agent_name.clone())
                .or_insert_with(|| RatingCount { name: e.agent_name.clone(), ..Default::default() })
                .add(e.rating);
            let sector = self.sector_name(&e.sector);
            sectors
                .entry(sector.clone())
                .or_insert_with(|| RatingCount { name: sector, ..Default::default() })
                .add(e.rating);
        }
        report.weeks = by_week
            .into_values()
            .map(|(mut w, hours)| {
                w.median_first_answer_hours = median(hours);
                w
            })
            .collect();
        report.median_first_answer_hours = median(all_hours);
        report.per_agent = agents.into_values().collect();
        report.per_sector = sectors.into_values().collect();
        let mut comments: Vec<Evaluation> = ratings.into_iter().filter(|e| !e.comment.trim().is_empty()).collect();
        comments.sort_by_key(|e| std::cmp::Reverse(e.updated));
        report.comments = comments;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn weeks_start_on_monday_in_amsterdam() {
        // Sunday 6 December 2026, 23:30 UTC is already Monday 7 December in Amsterdam.
        let t = DateTime::parse_from_rfc3339("2026-12-06T23:30:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(week_of(t), NaiveDate::from_ymd_opt(2026, 12, 7).expect("date"));
        let t = DateTime::parse_from_rfc3339("2026-12-06T20:00:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(week_of(t), NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"));
    }
}
