//! `content/helpdesk.toml`: the typed, strict configuration of the helpdesk.
//!
//! Every table denies unknown keys, so a typo is an error with a line number rather than a
//! setting that silently does nothing.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, Diagnostics, LineIndex, toml_diagnostic};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskConfig {
    pub site: SiteConfig,
    pub languages: Vec<Language>,
    pub tickets: TicketConfig,
    pub office_hours: OfficeHours,
    #[serde(default)]
    pub holidays: Holidays,
    pub support_levels: Vec<SupportLevel>,
    pub plans: Vec<Plan>,
    pub sectors: Vec<Sector>,
    #[serde(default)]
    pub agents: Vec<Agent>,
    #[serde(default)]
    pub application: ApplicationConfig,
}

/// The customers' application, whose "Contact HelpDesk" item opens the helpdesk.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationConfig {
    /// Origins (`https://app.example.nl`) whose pages the form accepts as `from`, the page the
    /// user was on; agents see it as a link. A page on any other origin is dropped.
    #[serde(default)]
    pub origins: Vec<String>,
}

impl ApplicationConfig {
    /// `url` when it is an http(s) address on one of the origins (and not absurdly long).
    pub fn page(&self, url: &str) -> Option<String> {
        let url = url.trim();
        if url.len() > 1000 || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return None;
        }
        let (scheme, rest) = url.split_once("://")?;
        if !matches!(scheme, "https" | "http") {
            return None;
        }
        let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let origin = format!("{scheme}://{}", &rest[..host_end]).to_lowercase();
        if origin.contains('@') || origin.contains('\\') {
            return None;
        }
        self.origins.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin)).then(|| url.to_owned())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Shown in the header and the page titles.
    pub name: String,
    /// The company behind the helpdesk.
    pub company: String,
    /// Public URL of the site, used in the sitemap and canonical links.
    pub base_url: String,
    pub default_language: String,
    /// Prefix of the "edit this page" link; the path relative to `content/` is appended.
    #[serde(default)]
    pub edit_url: Option<String>,
    pub support_email: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Articles shown as popular on the home page, as `category/slug`.
    #[serde(default)]
    pub popular: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Language {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TicketConfig {
    /// Incident number format: `{year}` and `{seq}` or `{seq:N}` (zero-padded to N digits),
    /// e.g. `INC-{year}-{seq:5}` -> `INC-2026-00042`.
    pub number_format: String,
    /// The answer target in working days.
    pub target_working_days: u32,
    pub max_attachment_mb: u32,
    pub attachment_types: Vec<String>,
    /// A resolved ticket nobody reacts to closes by itself after this many days.
    #[serde(default = "default_auto_close_days")]
    pub auto_close_days: u32,
}

fn default_auto_close_days() -> u32 {
    7
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeHours {
    pub timezone: String,
    pub days: Vec<Weekday>,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Holidays {
    /// Include the Dutch public holidays (Nieuwjaarsdag, Pasen, Koningsdag, ...).
    #[serde(default = "yes")]
    pub dutch_public: bool,
    /// Extra closed days.
    #[serde(default)]
    pub extra: Vec<NaiveDate>,
}

fn yes() -> bool {
    true
}

/// A label in one language for all, or per language code.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Localized {
    One(String),
    PerLanguage(BTreeMap<String, String>),
}

impl Localized {
    /// The label in `lang`, falling back to any label there is.
    pub fn get(&self, lang: &str) -> &str {
        match self {
            Localized::One(s) => s,
            Localized::PerLanguage(map) => {
                map.get(lang).or_else(|| map.values().next()).map(String::as_str).unwrap_or("")
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SupportLevel {
    pub id: String,
    pub name: Localized,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub id: String,
    pub name: Localized,
    #[serde(default)]
    pub phone_support: bool,
    #[serde(default)]
    pub priority: bool,
    #[serde(default)]
    pub preferred_agent: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sector {
    pub id: String,
    pub name: Localized,
    pub subtopics: Vec<Subtopic>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Subtopic {
    pub id: String,
    pub name: Localized,
    /// The FAQ category (folder under `content/faq/<lang>/`) where articles drafted from this
    /// subtopic's tickets go; the subtopic's id when not given.
    #[serde(default)]
    pub faq_category: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub email: String,
    pub level: String,
    #[serde(default)]
    pub sectors: Vec<String>,
}

impl HelpdeskConfig {
    /// Reads and validates `helpdesk.toml`. `display` is the path shown in diagnostics.
    pub fn load(path: &Path, display: &Path) -> Result<Self, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostics(vec![Diagnostic::new(display, 0, format!("cannot read the configuration: {e}"))])
        })?;
        Self::parse(&text, display)
    }

    pub fn parse(text: &str, display: &Path) -> Result<Self, Diagnostics> {
        let config: HelpdeskConfig = toml::from_str(text)
            .map_err(|e| Diagnostics(vec![toml_diagnostic(display, text, 0, &e).with_source(text)]))?;
        let problems = config.validate(text, display);
        if problems.is_empty() { Ok(config) } else { Err(problems) }
    }

    /// Cross-references inside the file: ids unique, references resolve.
    fn validate(&self, text: &str, display: &Path) -> Diagnostics {
        let lines = LineIndex::new(text);
        // Point at the first line mentioning the offending value, or the file as a whole.
        let at = |needle: &str| text.find(needle).map(|o| lines.line_of(o)).unwrap_or(0);
        let mut out = Diagnostics::default();
        let mut report = |needle: &str, msg: String| {
            out.push(Diagnostic::new(display, at(needle), msg).with_source(text));
        };

        let codes: Vec<&str> = self.languages.iter().map(|l| l.code.as_str()).collect();
        if !codes.contains(&self.site.default_language.as_str()) {
            report(
                "default_language",
                format!("default_language `{}` is not one of the languages", self.site.default_language),
            );
        }
        for code in &codes {
            if !matches!(*code, "nl" | "en") {
                report(&format!("\"{code}\""), format!("language `{code}` is not supported (use nl or en)"));
            }
        }
        let check_unique = |kind: &str, ids: Vec<&str>, report: &mut dyn FnMut(&str, String)| {
            let mut seen = HashSet::new();
            for id in ids {
                if !seen.insert(id) {
                    report(&format!("id = \"{id}\""), format!("duplicate {kind} id `{id}`"));
                }
            }
        };
        check_unique("support level", self.support_levels.iter().map(|l| l.id.as_str()).collect(), &mut report);
        check_unique("plan", self.plans.iter().map(|p| p.id.as_str()).collect(), &mut report);
        check_unique("sector", self.sectors.iter().map(|s| s.id.as_str()).collect(), &mut report);
        check_unique("agent", self.agents.iter().map(|a| a.id.as_str()).collect(), &mut report);
        for sector in &self.sectors {
            check_unique("subtopic", sector.subtopics.iter().map(|s| s.id.as_str()).collect(), &mut report);
            if sector.subtopics.is_empty() {
                report(&format!("id = \"{}\"", sector.id), format!("sector `{}` has no subtopics", sector.id));
            }
        }
        for agent in &self.agents {
            if !self.support_levels.iter().any(|l| l.id == agent.level) {
                report(
                    &format!("level = \"{}\"", agent.level),
                    format!("agent `{}` has unknown support level `{}`", agent.id, agent.level),
                );
            }
            for s in &agent.sectors {
                if !self.sectors.iter().any(|x| &x.id == s) {
                    report(&format!("\"{s}\""), format!("agent `{}` names unknown sector `{s}`", agent.id));
                }
            }
        }
        if self.office_hours.opens >= self.office_hours.closes {
            report("opens", "office hours open after they close".into());
        }
        if !self.tickets.number_format.contains("{seq") {
            report("number_format", "number_format must contain {seq} or {seq:N}".into());
        }
        for origin in &self.application.origins {
            let ok = origin.split_once("://").is_some_and(|(scheme, host)| {
                matches!(scheme, "https" | "http") && !host.is_empty() && !host.contains(['/', '?', '#', '@'])
            });
            if !ok {
                report(
                    origin,
                    format!("application origin `{origin}` must look like https://app.example.nl (no path)"),
                );
            }
        }
        if self.tickets.target_working_days == 0 {
            report("target_working_days", "target_working_days must be at least 1".into());
        }
        out
    }

    pub fn language_codes(&self) -> impl Iterator<Item = &str> {
        self.languages.iter().map(|l| l.code.as_str())
    }
}
