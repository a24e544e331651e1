//! `/agent/reports`: the figures as charts people read at a glance (SVG drawn here, no
//! JavaScript), each with its numbers in a table, and as CSV (`/agent/reports.csv?table=`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use minijinja::{Value, context};

use super::require_staff;
use crate::service::reports::{RatingCount, Report};
use crate::web::extract::Csrf;
use crate::web::{Svc, WebError, WebResult, render, site_ctx};

/// Weeks shown.
const WEEKS: u32 = 12;

pub fn routes() -> axum::Router<Svc> {
    axum::Router::new()
        .route("/agent/reports", axum::routing::get(page))
        .route("/agent/reports.csv", axum::routing::get(csv))
}

async fn page(State(svc): State<Svc>, csrf: Csrf, headers: HeaderMap) -> WebResult {
    let user = require_staff(&svc, &headers, "/agent/reports").await?;
    let report = svc.report(WEEKS).await?;
    let lang = svc.lang();
    let weeks: Vec<String> = report.weeks.iter().map(|w| w.label.clone()).collect();
    let volume = bars(
        &lang.get("agent_report_volume"),
        &weeks,
        &[
            (lang.get("agent_report_filed"), report.weeks.iter().map(|w| w.filed as f64).collect(), "#2f6f9f"),
            (lang.get("agent_report_solved"), report.weeks.iter().map(|w| w.solved as f64).collect(), "#2f7d4f"),
        ],
        None,
    );
    let share = |answered: u64, within: u64| if answered == 0 { 0.0 } else { 100.0 * within as f64 / answered as f64 };
    let target = bars(
        &lang.get("agent_report_target"),
        &weeks,
        &[(
            lang.get("agent_report_within"),
            report.weeks.iter().map(|w| share(w.answered, w.within_target)).collect(),
            "#2f7d4f",
        )],
        Some(100.0),
    );
    let first = bars(
        &lang.get("agent_report_first_answer"),
        &weeks,
        &[(
            lang.get("agent_report_hours"),
            report.weeks.iter().map(|w| w.median_first_answer_hours.unwrap_or(0.0)).collect(),
            "#8a5a00",
        )],
        None,
    );
    let ratings = stacked(&lang.get("agent_report_ratings"), &report.per_agent, &lang);
    let html = render(
        &svc,
        "agent/reports.html",
        context! {
            site => site_ctx(&svc), csrf => csrf.token, user => user, tab => "reports",
            report => report, weeks_shown => WEEKS,
            within_share => (share(report.answered, report.within_target) * 10.0).round() / 10.0,
            median_hours => report.median_first_answer_hours.map(|h| (h * 10.0).round() / 10.0),
            volume_chart => Value::from_safe_string(volume), target_chart => Value::from_safe_string(target),
            first_chart => Value::from_safe_string(first), ratings_chart => Value::from_safe_string(ratings),
        },
    )?;
    Ok(csrf.page(&svc, html))
}

#[derive(Debug, serde::Deserialize)]
struct CsvQuery {
    table: Option<String>,
}

async fn csv(State(svc): State<Svc>, headers: HeaderMap, Query(q): Query<CsvQuery>) -> WebResult {
    require_staff(&svc, &headers, "/agent/reports").await?;
    let report = svc.report(WEEKS).await?;
    let table = q.table.unwrap_or_else(|| "weeks".into());
    let body = match table.as_str() {
        "weeks" => weeks_csv(&report),
        "agents" => ratings_csv("agent", &report.per_agent),
        "sectors" => ratings_csv("sector", &report.per_sector),
        "comments" => {
            let mut out = String::from("date,ticket,agent,sector,rating,comment\r\n");
            for e in &report.comments {
                let row = [
                    e.updated.format("%Y-%m-%d").to_string(),
                    e.ticket.clone(),
                    e.agent_name.clone(),
                    e.sector.clone(),
                    e.rating.as_str().to_owned(),
                    e.comment.clone(),
                ];
                out.push_str(&csv_row(&row));
            }
            out
        }
        _ => return Err(WebError::NotFound),
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"helpdesk-{table}.csv\"");
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(resp)
}

fn weeks_csv(r: &Report) -> String {
    let mut out = String::from(
        "week,start,filed,solved,answered,within_target,median_first_answer_hours,satisfied,neutral,dissatisfied\r\n",
    );
    for w in &r.weeks {
        let row = [
            w.label.clone(),
            w.start.to_string(),
            w.filed.to_string(),
            w.solved.to_string(),
            w.answered.to_string(),
            w.within_target.to_string(),
            w.median_first_answer_hours.map(|h| format!("{h:.1}")).unwrap_or_default(),
            w.satisfied.to_string(),
            w.neutral.to_string(),
            w.dissatisfied.to_string(),
        ];
        out.push_str(&csv_row(&row));
    }
    out
}

fn ratings_csv(what: &str, rows: &[RatingCount]) -> String {
    let mut out = format!("{what},satisfied,neutral,dissatisfied\r\n");
    for r in rows {
        out.push_str(&csv_row(&[
            r.name.clone(),
            r.satisfied.to_string(),
            r.neutral.to_string(),
            r.dissatisfied.to_string(),
        ]));
    }
    out
}

/// One CSV line (RFC 4180). A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`)
/// gets a leading apostrophe: comments are typed by subscribers.
fn csv_row(cells: &[String]) -> String {
    let cells: Vec<String> = cells
        .iter()
        .map(|c| {
            let c = if c.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{c}") } else { c.clone() };
            if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c }
        })
        .collect();
    format!("{}\r\n", cells.join(","))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A bar chart: one group of bars per label, one bar per series, with a legend.
fn bars(title: &str, labels: &[String], series: &[(String, Vec<f64>, &str)], max: Option<f64>) -> String {
    let (w, h, left, bottom, top) = (720.0, 260.0, 44.0, 44.0, 28.0);
    let top_value = max.unwrap_or_else(|| series.iter().flat_map(|s| s.1.iter().copied()).fold(0.0, f64::max)).max(1.0);
    let scale = (h - bottom - top) / top_value;
    let group = (w - left - 8.0) / labels.len().max(1) as f64;
    let bar = (group - 8.0) / series.len().max(1) as f64;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    // Axis with the top value and zero.
    let base = h - bottom;
    svg.push_str(&format!(
        r##"<line x1="{left}" y1="{base}" x2="{w}" y2="{base}" stroke="#888"/><text x="{x}" y="{y}" font-size="11" text-anchor="end">{top_label}</text><text x="{x}" y="{base}" font-size="11" text-anchor="end">0</text>"##,
        x = left - 4.0,
        y = top + 4.0,
        top_label = fmt_num(top_value),
    ));
    for (i, label) in labels.iter().enumerate() {
        let x0 = left + 4.0 + i as f64 * group;
        for (j, (name, values, colour)) in series.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0.0);
            let bh = (v * scale).max(0.0);
            svg.push_str(&format!(
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="{colour}"><title>{label} · {name}: {v}</title></rect>"#,
                x = x0 + j as f64 * bar,
                y = base - bh,
                bw = (bar - 2.0).max(1.0),
                label = esc(label),
                name = esc(name),
                v = fmt_num(v),
            ));
        }
        // Every other week label, so they do not run into each other.
        if i % 2 == 0 || labels.len() <= 8 {
            svg.push_str(&format!(
                r#"<text x="{x:.1}" y="{y}" font-size="11" text-anchor="middle">{l}</text>"#,
                x = x0 + group / 2.0 - 4.0,
                y = base + 16.0,
                l = esc(label.split("-W").nth(1).map(|n| format!("wk {n}")).as_deref().unwrap_or(label)),
            ));
        }
    }
    for (j, (name, _, colour)) in series.iter().enumerate() {
        let x = left + j as f64 * 170.0;
        svg.push_str(&format!(
            r#"<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/><text x="{tx}" y="16" font-size="12">{n}</text>"#,
            tx = x + 16.0,
            n = esc(name)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal stacked bars: satisfied / neutral / dissatisfied per name.
fn stacked(title: &str, rows: &[RatingCount], lang: &crate::i18n::Language) -> String {
    let row_h = 26.0;
    let (w, left, top) = (720.0, 160.0, 30.0);
    let h = top + row_h * rows.len().max(1) as f64 + 10.0;
    let most = rows.iter().map(RatingCount::total).max().unwrap_or(0).max(1) as f64;
    let scale = (w - left - 50.0) / most;
    let parts = [
        (lang.get("mail_rating_satisfied"), "#2f7d4f"),
        (lang.get("mail_rating_neutral"), "#9a8a3a"),
        (lang.get("mail_rating_dissatisfied"), "#b03a2e"),
    ];
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    for (j, (name, colour)) in parts.iter().enumerate() {
        let x = left + j as f64 * 150.0;
        svg.push_str(&format!(
            r#"<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/><text x="{tx}" y="16" font-size="12">{n}</text>"#,
            tx = x + 16.0,
            n = esc(name)
        ));
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        svg.push_str(&format!(
            r#"<text x="{x}" y="{ty}" font-size="12" text-anchor="end">{n}</text>"#,
            x = left - 6.0,
            ty = y + 16.0,
            n = esc(&r.name)
        ));
        let mut x = left;
        for ((name, colour), n) in parts.iter().zip([r.satisfied, r.neutral, r.dissatisfied]) {
            let bw = n as f64 * scale;
            if n > 0 {
                svg.push_str(&format!(
                    r#"<rect x="{x:.1}" y="{y}" width="{bw:.1}" height="{bh}" fill="{colour}"><title>{agent} · {name}: {n}</title></rect>"#,
                    bh = row_h - 6.0,
                    agent = esc(&r.name),
                    name = esc(name),
                ));
            }
            x += bw;
        }
        svg.push_str(&format!(
            r#"<text x="{tx:.1}" y="{ty}" font-size="12">{n}</text>"#,
            tx = x + 4.0,
            ty = y + 16.0,
            n = r.total()
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 { format!("{}", v.round() as i64) } else { format!("{v:.1}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_row(&["a".into(), "b,c".into(), "say \"hi\"".into()]), "a,\"b,c\",\"say \"\"hi\"\"\"\r\n");
        assert_eq!(csv_row(&["=HYPERLINK(\"x\")".into()]), "\"'=HYPERLINK(\"\"x\"\")\"\r\n");
    }

    #[test]
    fn chart_labels_are_escaped() {
        let svg = bars("<t>", &["2026-W01".into()], &[("<b>".into(), vec![3.0], "#000")], None);
        assert!(svg.contains("&lt;t&gt;") && svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
    }
}
