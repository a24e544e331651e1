//! Every page type on a phone, a small tablet and in between (320, 390 and 768 CSS px, Chromium's
//! device emulation), in Dutch and English, logged out and as subscriber, agent and admin: the
//! page is never wider than the screen, and axe-core finds no violation of the WCAG 2.0/2.1/2.2
//! A and AA rules. A screenshot of each is kept in `target/screenshots/` for a person to look at.
//!
//! All problems are collected and reported together, so one run shows everything to fix.

mod common;

use common::browser::{Browser, skip};
use common::*;
use helpdesk::model::Role;
use helpdesk::service::agent::AgentAction;

const WIDTHS: [u32; 3] = [320, 390, 768];
const PASSWORD: &str = "een heel goed wachtwoord";

/// A page to check: a name for reports and screenshots, and its address for a language.
struct Page {
    name: &'static str,
    url: Box<dyn Fn(&str) -> String>,
    /// Something to do once the page is open (e.g. submit a form to see its errors).
    then: Option<&'static str>,
}

fn page(name: &'static str, url: impl Fn(&str) -> String + 'static) -> Page {
    Page { name, url: Box::new(url), then: None }
}

/// `path` with `lang=<lang>` added to its query.
fn with_lang(path: &str, lang: &str) -> String {
    let (path, fragment) = path.split_once('#').map_or((path, String::new()), |(p, f)| (p, format!("#{f}")));
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={lang}{fragment}")
}

/// Opens every page at every width in both languages; returns the problems found.
async fn check(browser: &Browser, app: &TestApp, who: &str, pages: &[Page], problems: &mut Vec<String>) {
    for lang in ["nl", "en"] {
        for p in pages {
            for width in WIDTHS {
                browser.emulate(width, 800, width < 768).await;
                browser.goto(&app.url(&(p.url)(lang))).await;
                if let Some(script) = p.then {
                    browser.execute(script, vec![]).await;
                    browser
                        .wait_until("the page after the action", std::time::Duration::from_secs(5), || async {
                            browser.execute("return document.readyState", vec![]).await == "complete"
                                && browser.try_find(".field-error").await.is_some()
                        })
                        .await;
                }
                let label = format!("{who} {} ({lang}, {width} px)", p.name);
                // Wider than the screen: the document, or anything in it that sticks out (also
                // inside a box that scrolls or clips sideways: nothing is to scroll sideways).
                let sizes = browser
                    .execute(
                        "const w = arguments[0];
                         const out = Array.from(document.querySelectorAll('body *')).filter(e => {
                           const r = e.getBoundingClientRect();
                           const s = getComputedStyle(e);
                           return r.width > 0 && r.height > 0 && r.right > w + 1 && s.visibility !== 'hidden'
                             && s.position !== 'fixed' && !(s.clip && s.clip !== 'auto');
                         });
                         // Only the outermost offenders; when none is visible, the hidden ones
                         // (the document is wider all the same).
                         const any = out.length ? out : Array.from(document.querySelectorAll('body *'))
                           .filter(e => e.getBoundingClientRect().right > w + 1);
                         const top = any.filter(e => !any.includes(e.parentElement)).slice(0, 6);
                         // Text that runs out of its box (a long word).
                         const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                         const range = document.createRange();
                         for (let n = walker.nextNode(); n && top.length < 6; n = walker.nextNode()) {
                           range.selectNodeContents(n);
                           const r = range.getBoundingClientRect();
                           if (r.width > 0 && r.right > w + 1) top.push(n.parentElement);
                         }
                         return [document.documentElement.scrollWidth, w, document.documentElement.lang,
                           top.map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                             (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
                             ' \"' + (e.textContent || '').trim().slice(0, 20) + '\"' +
                             ' to ' + Math.round(e.getBoundingClientRect().right) + ' px')];",
                        vec![serde_json::json!(width)],
                    )
                    .await;
                // A phone browser widens its layout viewport to fit a page that is too wide (and
                // zooms out): the screen's width is the measure.
                let doc = sizes[0].as_u64().unwrap_or(0);
                let sticking_out = sizes[3].as_array().cloned().unwrap_or_default();
                if doc > u64::from(width) || !sticking_out.is_empty() {
                    let what: Vec<&str> = sticking_out.iter().filter_map(|v| v.as_str()).collect();
                    problems.push(format!("{label}: {doc} px wide; sticking out: {}", what.join(", ")));
                }
                if sizes[2].as_str() != Some(lang) {
                    problems.push(format!("{label}: the page is in {:?}", sizes[2]));
                }
                let shot = format!("{who}-{}-{lang}-{width}", p.name.replace(' ', "-"));
                browser.screenshot(&shot).await;
                for v in browser.axe_violations().await {
                    problems.push(format!("{label}: axe: {v}"));
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_and_passes_axe() {
    if skip() {
        return;
    }
    let app = spawn_app_with_site().await;
    let org = app.org("Gemeente Wolde", true).await;
    let anna = app.subscriber("anna@wolde.example", &org).await;
    let _ = app.person("sanne@klaver.example", "Sanne de Vries", &org, Role::Agent).await;
    let _ = app.person("beheer@klaver.example", "Bea Beheer", &org, Role::Admin).await;
    // A ticket with an answer: its pages, and the rating link from the answer e-mail.
    let location = file_ticket(&app, &anna, "Kaartlaag ontbreekt in het omgevingsplan").await;
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    let agent = app.store().user_by_email("sanne@klaver.example").await.expect("read").expect("agent");
    let t = app.store().ticket(&number).await.expect("read").expect("ticket");
    let answer = AgentAction::Answer { body: "Zet de laag aan onder Kaartlagen.".into(), keep_open: false };
    app.service.act(&t, t.version, &agent, answer).await.expect("answer");
    let rating = link_in(&app.wait_for_mail("anna@wolde.example", "Antwoord").await.text, "/evaluate/").expect("link");
    let rating = rating.trim_start_matches(&app.base).to_owned();
    // Links a person gets by e-mail: an invitation and a password reset.
    app.service.invite("nieuw@wolde.example", "", &org, Role::Subscriber).await.expect("invite");
    let invite =
        link_in(&app.wait_for_mail("nieuw@wolde.example", "Uitnodiging").await.text, "/invite#").expect("link");
    let invite = invite.trim_start_matches(&app.base).to_owned();
    let _ = app.service.forgot_password("anna@wolde.example").await;
    let reset = link_in(&app.wait_for_mail("anna@wolde.example", "wachtwoord").await.text, "/password/reset#");
    let reset = reset.expect("reset link").trim_start_matches(&app.base).to_owned();

    let browser = Browser::start().await;
    let mut problems = Vec::new();

    let visitor = vec![
        page("home", |l| format!("/{l}/")),
        page("category", |l| format!("/{l}/tickets/")),
        page("article", |l| format!("/{l}/tickets/ticket-aanmaken/")),
        page("search", |l| format!("/search?lang={l}&q=wachtwoord")),
        page("not found", |l| format!("/{l}/bestaat-niet/")),
        page("login", |l| with_lang("/login", l)),
        page("forgot password", |l| with_lang("/password/forgot", l)),
        page("reset password", move |l| with_lang(&reset, l)),
        page("invitation", move |l| with_lang(&invite, l)),
        page("rating", move |l| with_lang(&rating, l)),
    ];
    check(&browser, &app, "visitor", &visitor, &mut problems).await;

    browser.log_in(&app.url("/login"), "anna@wolde.example", PASSWORD).await;
    let n = number.clone();
    let subscriber = vec![
        page("portal home", |l| with_lang("/portal", l)),
        page("ticket list", |l| with_lang("/portal/tickets", l)),
        page("ticket form", |l| with_lang("/portal/tickets/new", l)),
        Page {
            name: "ticket form with errors",
            url: Box::new(|l| with_lang("/portal/tickets/new", l)),
            then: Some("document.querySelector('#subject').closest('form').submit(); return true;"),
        },
        page("ticket", move |l| with_lang(&format!("/portal/tickets/{n}"), l)),
    ];
    check(&browser, &app, "subscriber", &subscriber, &mut problems).await;

    browser.log_in(&app.url("/login"), "sanne@klaver.example", PASSWORD).await;
    let n = number.clone();
    let staff = vec![
        page("queue", |l| with_lang("/agent", l)),
        page("agent ticket", move |l| with_lang(&format!("/agent/tickets/{n}"), l)),
        page("reports", |l| with_lang("/agent/reports", l)),
        page("phone call", |l| with_lang("/agent/calls/new", l)),
    ];
    check(&browser, &app, "agent", &staff, &mut problems).await;

    browser.log_in(&app.url("/login"), "beheer@klaver.example", PASSWORD).await;
    let org_id = org.id.clone();
    let admin = vec![
        page("admin", |l| with_lang("/admin", l)),
        page("organisation", move |l| with_lang(&format!("/admin/orgs/{org_id}"), l)),
    ];
    check(&browser, &app, "admin", &admin, &mut problems).await;
    browser.quit().await;

    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}
