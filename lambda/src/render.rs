//! Templates and their rendering, for web pages and e-mails alike. Both the web layer and the
//! service use this module; neither reaches into the other for it.
//!
//! Templates are compiled into the binary (the Lambda needs no files): pages under
//! `lambda/templates/*.html`, e-mails as `lambda/templates/mail/<name>.<lang>.{txt,html}`.

use minijinja::{Environment, Value, context};

use crate::i18n::Language;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("set_password.html", include_str!("../templates/set_password.html")),
    ("forgot.html", include_str!("../templates/forgot.html")),
    ("portal.html", include_str!("../templates/portal.html")),
    ("tickets.html", include_str!("../templates/tickets.html")),
    ("ticket_new.html", include_str!("../templates/ticket_new.html")),
    ("ticket.html", include_str!("../templates/ticket.html")),
    ("uploaded.html", include_str!("../templates/uploaded.html")),
    ("agent/queue.html", include_str!("../templates/agent/queue.html")),
    ("agent/ticket.html", include_str!("../templates/agent/ticket.html")),
    ("agent/call.html", include_str!("../templates/agent/call.html")),
    ("agent/reports.html", include_str!("../templates/agent/reports.html")),
    ("admin/orgs.html", include_str!("../templates/admin/orgs.html")),
    ("admin/org.html", include_str!("../templates/admin/org.html")),
    ("evaluate.html", include_str!("../templates/evaluate.html")),
    ("mail/invite.nl.txt", include_str!("../templates/mail/invite.nl.txt")),
    ("mail/invite.nl.html", include_str!("../templates/mail/invite.nl.html")),
    ("mail/invite.en.txt", include_str!("../templates/mail/invite.en.txt")),
    ("mail/invite.en.html", include_str!("../templates/mail/invite.en.html")),
    ("mail/reset.nl.txt", include_str!("../templates/mail/reset.nl.txt")),
    ("mail/reset.nl.html", include_str!("../templates/mail/reset.nl.html")),
    ("mail/reset.en.txt", include_str!("../templates/mail/reset.en.txt")),
    ("mail/reset.en.html", include_str!("../templates/mail/reset.en.html")),
    ("mail/ack.nl.txt", include_str!("../templates/mail/ack.nl.txt")),
    ("mail/ack.nl.html", include_str!("../templates/mail/ack.nl.html")),
    ("mail/ack.en.txt", include_str!("../templates/mail/ack.en.txt")),
    ("mail/ack.en.html", include_str!("../templates/mail/ack.en.html")),
    ("mail/answer.nl.txt", include_str!("../templates/mail/answer.nl.txt")),
    ("mail/answer.nl.html", include_str!("../templates/mail/answer.nl.html")),
    ("mail/answer.en.txt", include_str!("../templates/mail/answer.en.txt")),
    ("mail/answer.en.html", include_str!("../templates/mail/answer.en.html")),
    ("mail/stranger.nl.txt", include_str!("../templates/mail/stranger.nl.txt")),
    ("mail/stranger.nl.html", include_str!("../templates/mail/stranger.nl.html")),
    ("mail/stranger.en.txt", include_str!("../templates/mail/stranger.en.txt")),
    ("mail/stranger.en.html", include_str!("../templates/mail/stranger.en.html")),
];

/// Every template, compiled once at start-up (or Lambda cold start).
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None }
    });
    site_builder::build::readable_escaping(&mut env);
    env.add_filter("urlencode_path", |s: String| urlencode(&s));
    // `{{ when | date(lang) }}`: a moment as day and time, a day as the language writes it.
    env.add_filter("date", |s: String, lang: Option<String>| {
        let lang = lang.unwrap_or_else(|| "nl".into());
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|d| {
                let local = d.with_timezone(&chrono_tz::Europe::Amsterdam);
                local.format(if lang == "nl" { "%d-%m-%Y %H:%M" } else { "%Y-%m-%d %H:%M" }).to_string()
            })
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(|d| site_builder::build::format_date(&lang, d))
            })
            .unwrap_or(s)
    });
    // `{{ t.portal_welcome | fill(name=user.name) }}`: a text with its `{name}` placeholders filled.
    env.add_filter("fill", |s: String, kwargs: minijinja::value::Kwargs| -> Result<String, minijinja::Error> {
        let mut out = s;
        for key in kwargs.args() {
            let v: Value = kwargs.get(key)?;
            out = out.replace(&format!("{{{key}}}"), &v.to_string());
        }
        Ok(out)
    });
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            panic!("template {name}: {e}");
        }
    }
    env
}

/// A page in `lang`: the language's code `lang`, its texts `t` and the other language's code
/// `switch_to` (for the language link) are added to `ctx`.
pub fn page(env: &Environment<'static>, lang: &Language, name: &str, ctx: Value) -> Result<String, minijinja::Error> {
    let ctx =
        context! { lang => lang.code, t => lang.value(), switch_to => lang.get("portal_switch_lang_code"), ..ctx };
    env.get_template(name)?.render(ctx)
}

/// A mail's text and HTML parts in `lang`: `mail/<name>.<lang>.txt` and `.html` (the Dutch
/// templates when `lang` has none), with `lang` and its texts `t` in the context.
pub fn mail(
    env: &Environment<'static>,
    name: &str,
    lang: &Language,
    ctx: Value,
) -> Result<(String, String), minijinja::Error> {
    let ctx = context! { lang => lang.code, t => lang.value(), ..ctx };
    let part = |ext: &str| {
        let own = format!("mail/{name}.{}.{ext}", lang.code);
        let tpl = env.get_template(&own).or_else(|_| env.get_template(&format!("mail/{name}.nl.{ext}")))?;
        tpl.render(ctx.clone())
    };
    Ok((part("txt")?, part("html")?))
}

/// What every page shows of the site: its name, company and how to reach the helpdesk.
pub fn site_value(s: &site_builder::config::SiteConfig) -> Value {
    context! { name => s.name, company => s.company, support_email => s.support_email, phone => s.phone }
}

/// Percent-encodes everything but unreserved characters (a path segment or query value).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
