//! Whole journeys through the product in a real (headless) Chromium, each done twice: with
//! JavaScript, and with JavaScript switched off where the pages promise to work without it.
//!
//! - A visitor searches the help centre and opens an article with the keyboard only.
//! - A subscriber accepts the invitation, logs in, picks a sector and a subtopic, types the
//!   subject (suggested FAQs appear, with JavaScript), attaches a file, sends the ticket and sees
//!   its number; the agent Anne finds it in the queue and answers; the subscriber sees the answer
//!   in the portal and rates it through the link in the answer e-mail.
//!
//! A screenshot of every step is kept in `target/screenshots/journeys/<journey>-<nn>-<step>.png`
//! for a person to look at. Needs `chromedriver` and Chromium (scripts/test.sh installs both);
//! `SKIP_BROWSER_TESTS=1` skips these tests knowingly.

mod common;

use std::path::Path;

use common::browser::{Browser, Element, WAIT, keys, skip};
use common::{TestApp, link_in, spawn_app_with_site};
use helpdesk::model::{MessageKind, Rating, Role, TicketState};

const PASSWORD: &str = "een heel goed wachtwoord";

/// The numbered screenshots of one journey (the ones of an earlier run are removed first).
struct Steps {
    journey: &'static str,
    n: u32,
}

impl Steps {
    fn new(journey: &'static str) -> Steps {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/journeys");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            // `<journey>-<nn>-...`: not another journey whose name starts the same.
            let name = entry.file_name().to_string_lossy().into_owned();
            let numbered = name.strip_prefix(journey).and_then(|rest| rest.strip_prefix('-')).is_some_and(|rest| {
                rest.len() > 3 && rest[..2].bytes().all(|b| b.is_ascii_digit()) && rest[2..].starts_with('-')
            });
            if numbered {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Steps { journey, n: 0 }
    }

    async fn shot(&mut self, browser: &Browser, step: &str) {
        self.n += 1;
        let path = browser.screenshot(&format!("journeys/{}-{:02}-{step}", self.journey, self.n)).await;
        assert!(std::fs::metadata(&path).is_ok_and(|m| m.len() > 1000), "a screenshot at {}", path.display());
    }
}

async fn start(js: bool) -> Browser {
    if js { Browser::start().await } else { Browser::start_without_js().await }
}

/// Presses Tab until `target` has the focus (at most `max` times), as a keyboard user gets
/// there; returns how many presses it took.
async fn tab_to(browser: &Browser, target: &Element<'_>, max: usize) -> usize {
    for presses in 1..=max {
        browser.keys(keys::TAB).await;
        if browser.active().await == *target {
            return presses;
        }
    }
    panic!("{max} × Tab did not reach {}", target.html().await);
}

/// Which subtopic options can be picked (their group shown and enabled), as `sector/subtopic`.
async fn pickable_subtopics(browser: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for group in browser.find_all("#subtopic optgroup").await {
        if group.prop("hidden").await == false && group.prop("disabled").await == false {
            for option in group.find_all("option").await {
                out.push(option.attr("value").await.unwrap_or_default());
            }
        }
    }
    out
}

/// A visitor who uses no mouse: Tab to the search box, type, pick a result with the keys and
/// open the article. With JavaScript the suggestions come as they type (arrows, Enter); without
/// it the box is a plain form: Enter opens the results page, Tab reaches the first result.
async fn visitor_journey(js: bool) {
    let app = spawn_app_with_site().await;
    let mut steps = Steps::new(if js { "visitor" } else { "visitor-nojs" });
    let browser = start(js).await;

    browser.goto(&app.url("/")).await;
    assert_eq!(browser.find("html").await.attr("lang").await.as_deref(), Some("nl"));
    let input = browser.find(".search-input").await;
    let form = browser.find("form[data-search]").await;
    let enhanced = form.attr("class").await.unwrap_or_default().contains("search-form-enhanced");
    assert_eq!(enhanced, js, "search.js takes over the search box only with JavaScript");
    steps.shot(&browser, "home").await;

    let presses = tab_to(&browser, &input, 15).await;
    assert!(presses > 1, "the skip link and the header come first ({presses} presses)");
    browser.keys("bijlagen").await;
    assert_eq!(input.prop("value").await, "bijlagen");

    let article = if js {
        // Suggestions while typing; the arrows move through them, Enter opens the chosen one.
        // The list for the whole word (not for a few letters of it, still on its way).
        browser
            .wait_until("the suggestions for “bijlagen”", WAIT, || async {
                match browser.try_find(".search-suggest-all").await {
                    Some(all) => {
                        all.is_displayed().await && all.attr("href").await.is_some_and(|h| h.contains("q=bijlagen"))
                    }
                    None => false,
                }
            })
            .await;
        assert_eq!(input.attr("aria-expanded").await.as_deref(), Some("true"));
        let items = browser.find_all(".search-suggest-item").await;
        assert!(items.len() >= 2, "several suggestions for “bijlagen”");
        let first = items[0].attr("href").await.unwrap_or_default();
        assert!(first.starts_with("/nl/tickets/bijlagen-toevoegen/"), "{first}");
        steps.shot(&browser, "suggestions").await;
        browser.keys(keys::ARROW_DOWN).await;
        browser.keys(keys::ARROW_DOWN).await;
        assert_eq!(items[1].attr("aria-selected").await.as_deref(), Some("true"));
        browser.keys(keys::ARROW_UP).await;
        assert_eq!(items[0].attr("aria-selected").await.as_deref(), Some("true"));
        assert_eq!(items[1].attr("aria-selected").await.as_deref(), Some("false"));
        assert_eq!(input.attr("aria-activedescendant").await, items[0].attr("id").await);
        assert!(browser.active().await == input, "the focus stays in the box while choosing");
        steps.shot(&browser, "first-suggestion-chosen").await;
        browser.keys(keys::ENTER).await;
        first
    } else {
        // No suggestions: Enter sends the form, the results page lists the articles.
        assert!(browser.try_find(".search-suggest").await.is_none(), "no suggestion list without JavaScript");
        browser.keys(keys::ENTER).await;
        let at = browser.wait_for_path("/search?", WAIT).await;
        assert!(at.contains("q=bijlagen"), "{at}");
        let results = browser.find_all(".search-results .search-result-title").await;
        assert!(!results.is_empty(), "{}", browser.source().await);
        let first = results[0].attr("href").await.unwrap_or_default();
        assert!(first.starts_with("/nl/tickets/bijlagen-toevoegen/"), "{first}");
        steps.shot(&browser, "results").await;
        tab_to(&browser, &results[0], 30).await;
        steps.shot(&browser, "first-result-focused").await;
        browser.keys(keys::ENTER).await;
        first
    };

    browser.wait_for_path(&article, WAIT).await;
    let h1 = browser.find("main h1").await.text().await;
    assert!(h1.contains("bijlage") || h1.contains("Bijlage"), "{h1}");
    let title = browser.title().await;
    assert!(title.starts_with(&format!("{h1} · ")), "the title names the article: {title}");
    steps.shot(&browser, "article").await;
    browser.quit().await;
}

/// The subscriber's and the agent's journey around one ticket, with JavaScript or without.
async fn ticket_journey(js: bool) {
    let app = spawn_app_with_site().await;
    let journey = if js { "ticket" } else { "ticket-nojs" };
    let mut steps = Steps::new(journey);
    let org = app.org("Gemeente Wolde", true).await;
    let klaver = app.org("Klaver Online", false).await;
    // The agent `anne` of content/helpdesk.toml: invited, password set.
    let _ = app.person("anne@klaver.example", "Anne de Vries", &klaver, Role::Agent).await;
    let email = "anna@wolde.example";
    app.service.invite(email, "Anna Jansen", &org, Role::Subscriber).await.expect("invite");
    let (subscriber, agent) = tokio::join!(start(js), start(js));

    // 1. The invitation: the link's code comes after `#`. The page's script puts it in the
    //    form; without JavaScript the page asks for the code, which the mail also shows.
    let invitation = app.wait_for_mail(email, "Uitnodiging").await;
    let link = link_in(&invitation.text, "/invite#").expect("link in the invitation");
    let code = link.split_once('#').expect("fragment").1.to_owned();
    subscriber.goto(&link).await;
    let token = subscriber.find("#token").await;
    if js {
        subscriber
            .wait_until("the code to be in the form", WAIT, || async { token.prop("value").await == code.as_str() })
            .await;
        assert!(!token.is_displayed().await, "the field asking for the code is hidden");
        assert!(!subscriber.url().await.contains('#'), "the code left the address bar");
    } else {
        assert!(token.is_displayed().await, "without JavaScript the page asks for the code");
        assert_eq!(token.prop("value").await, "");
        assert!(subscriber.try_find("label[for=token]").await.is_some(), "the field has a label");
        let pasted = invitation.text.lines().map(str::trim).find(|l| *l == code);
        assert!(pasted.is_some(), "the code is on a line of its own in the mail:\n{}", invitation.text);
        token.send_keys(&code).await;
    }
    subscriber.find("#password").await.send_keys(PASSWORD).await;
    subscriber.find("#password_repeat").await.send_keys(PASSWORD).await;
    steps.shot(&subscriber, "invitation").await;
    subscriber.find("form.form button[type=submit]").await.click().await;
    subscriber.wait_for_path("/portal", WAIT).await;
    // Headless Chromium asks for English; Anna picks Dutch.
    subscriber.find("a.lang-switch").await.click().await;
    subscriber
        .wait_until("the portal to be Dutch", WAIT, || async {
            subscriber.find("html").await.attr("lang").await.as_deref() == Some("nl")
        })
        .await;
    assert!(subscriber.find(".user-name").await.text().await.contains("Anna Jansen"));
    steps.shot(&subscriber, "portal-after-invitation").await;

    // 2. Logged out, and in again through the login form.
    subscriber.find("form.logout button[type=submit]").await.click().await;
    subscriber.wait_for_path("/login", WAIT).await;
    subscriber.find("#email").await.send_keys(email).await;
    subscriber.find("#password").await.send_keys(PASSWORD).await;
    steps.shot(&subscriber, "login").await;
    subscriber.find("form.form button[type=submit]").await.click().await;
    subscriber.wait_for_path("/portal", WAIT).await;
    assert!(subscriber.try_find("form.logout").await.is_some(), "logged in");

    // 3. The form: the organisation's sector is chosen. With JavaScript only its subtopics can
    //    be picked and they change with the sector; without it every subtopic is there,
    //    grouped by sector.
    subscriber.find("a.button[href='/portal/tickets/new']").await.click().await;
    subscriber.wait_for_path("/portal/tickets/new", WAIT).await;
    let form = subscriber.find("form.ticket-form").await;
    assert_eq!(subscriber.find("#sector").await.prop("value").await, "overheid");
    let pickable = pickable_subtopics(&subscriber).await;
    let sectors_shown = |list: &[String]| {
        let mut s: Vec<String> = list.iter().filter_map(|v| v.split('/').next()).map(str::to_owned).collect();
        s.dedup();
        s
    };
    if js {
        assert_eq!(sectors_shown(&pickable), ["overheid"], "{pickable:?}");
        subscriber.find("#sector option[value='advies']").await.click().await;
        let advies = pickable_subtopics(&subscriber).await;
        assert_eq!(sectors_shown(&advies), ["advies"], "the subtopics follow the sector: {advies:?}");
        steps.shot(&subscriber, "other-sector").await;
        subscriber.find("#sector option[value='overheid']").await.click().await;
        assert_eq!(pickable_subtopics(&subscriber).await, pickable);
    } else {
        let shown = sectors_shown(&pickable);
        assert!(shown.len() > 1 && shown.contains(&"advies".to_owned()), "all sectors' subtopics: {shown:?}");
        assert!(subscriber.find_all("#subtopic optgroup").await.len() > 1, "grouped by sector");
    }
    subscriber.find("#subtopic option[value='overheid/vergunningen']").await.click().await;
    assert_eq!(subscriber.find("#subtopic").await.prop("value").await, "overheid/vergunningen");

    // 4. The subject: FAQs that may answer it appear while typing (with JavaScript).
    let subject = "Wachtwoord vergeten na uitnodiging";
    subscriber.find("#subject").await.send_keys(subject).await;
    let suggestions = subscriber.find("#subject-suggestions").await;
    if js {
        let first = subscriber.wait_for("#subject-suggestions li a", WAIT).await;
        let href = first.attr("href").await.unwrap_or_default();
        assert!(href.starts_with("/nl/account/"), "{href}");
        assert_eq!(first.attr("target").await.as_deref(), Some("_blank"), "the form stays open");
        steps.shot(&subscriber, "suggestions").await;
    }

    // 5. The description and a file from disk. Attachments are kept locally here (no S3), so
    //    the form has no direct upload: with or without JavaScript the file travels inside
    //    the multipart form.
    subscriber.find("#description").await.send_keys("Na het resetten kan ik nog steeds niet inloggen.").await;
    assert_eq!(form.attr("data-direct-upload").await, None, "the local store takes files in the form");
    let content = b"\x89PNG\r\n\x1a\n schermafdruk van de foutmelding";
    let file = app.dir.path().join("schermafdruk.png");
    std::fs::write(&file, content).expect("write file");
    subscriber.find("#attachments").await.send_keys(&file.to_string_lossy()).await;
    if !js {
        // Typing took a while; still no suggestions: nothing fetched them.
        assert!(!suggestions.is_displayed().await && suggestions.text().await.is_empty(), "no suggestions");
    }
    steps.shot(&subscriber, "form-filled").await;

    // 6. Sent: the ticket's page with its number.
    subscriber.find("form.ticket-form button[type=submit]").await.click().await;
    let at = subscriber.wait_for_path("/portal/tickets/INC-", WAIT).await;
    let number = at.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    let notice = subscriber.wait_for(".notice[role=status]", WAIT).await.text().await;
    assert!(notice.contains(&number), "the number is on the page: {notice}");
    assert!(subscriber.find("h1").await.text().await.contains(subject));
    assert_eq!(subscriber.find(".attachments a").await.text().await, "schermafdruk.png");
    steps.shot(&subscriber, "ticket-sent").await;
    let ticket = app.store().ticket(&number).await.expect("get").expect("stored");
    assert_eq!((ticket.sector.as_str(), ticket.subtopic.as_str()), ("overheid", "vergunningen"));
    assert_eq!(ticket.subject, subject);
    let thread = app.store().messages(&number).await.expect("thread");
    let attached = &thread[0].attachments;
    assert_eq!(attached.len(), 1, "{attached:?}");
    assert_eq!((attached[0].filename.as_str(), attached[0].size), ("schermafdruk.png", content.len() as u64));

    // 7. The agent logs in, finds the ticket in the queue and answers it.
    agent.log_in(&app.url("/login"), "anne@klaver.example", PASSWORD).await;
    agent.find("nav.tabs a[href='/agent']").await.click().await;
    agent.wait_for_path("/agent", WAIT).await;
    let href = format!("/agent/tickets/{number}");
    let row = agent.wait_for("table.queue tbody tr", WAIT).await;
    assert!(row.text().await.contains(subject), "{}", row.text().await);
    steps.shot(&agent, "agent-queue").await;
    agent.find(&format!("table.queue a[href='{href}']")).await.click().await;
    agent.wait_for_path(&href, WAIT).await;
    assert!(agent.find(".message-body").await.text().await.contains("nog steeds niet inloggen"));
    let answer = "Vraag via ‘Wachtwoord vergeten’ een nieuwe link aan; de oude werkt niet meer.";
    agent.find("#answer-body").await.send_keys(answer).await;
    steps.shot(&agent, "agent-answer-typed").await;
    agent.find("#answer button[type=submit]").await.click().await;
    agent.wait_for_path(&format!("{href}?done=answer"), WAIT).await;
    agent.wait_for(".notice[role=status]", WAIT).await;
    let answers = agent.find_all(".message-answer .message-body").await;
    assert_eq!(answers.len(), 1, "the answer is in the thread");
    assert_eq!(answers[0].text().await, answer);
    steps.shot(&agent, "agent-answered").await;
    agent.quit().await;

    // 8. The subscriber sees the answer in the portal.
    subscriber.goto(&app.url(&format!("/portal/tickets/{number}"))).await;
    let shown = subscriber.find(".message-answer .message-body").await.text().await;
    assert_eq!(shown, answer);
    assert_eq!(
        subscriber.find(".state").await.attr("class").await.as_deref(),
        Some("state state-resolved"),
        "the ticket is resolved"
    );
    steps.shot(&subscriber, "answer-in-portal").await;

    // 9. The rating link in the answer e-mail: the page shows the rating chosen in the mail;
    //    sending the form records it.
    let mut mail = None;
    subscriber
        .wait_until("the answer e-mail", WAIT, || {
            mail = app.mails().into_iter().find(|m| m.to == email && m.text.contains("/evaluate/"));
            std::future::ready(mail.is_some())
        })
        .await;
    let mail = mail.expect("the answer e-mail");
    assert!(mail.subject.contains(&number) && mail.text.contains(answer), "{}\n{}", mail.subject, mail.text);
    let rating_link = link_in(&mail.text, "rating=satisfied").expect("a rating link");
    assert!(rating_link.starts_with(&app.url("/evaluate/")), "{rating_link}");
    subscriber.goto(&rating_link).await;
    assert_eq!(subscriber.find("input[name=rating][value=satisfied]").await.prop("checked").await, true);
    assert!(subscriber.try_find(".notice[role=status]").await.is_none(), "opening the link records nothing");
    let answer_id = thread_answer_id(&app, &number).await;
    assert!(app.store().evaluation(&answer_id).await.expect("read").is_none(), "nothing recorded by the GET");
    let comment = "Duidelijk, dank u wel!";
    subscriber.find("#comment").await.send_keys(comment).await;
    steps.shot(&subscriber, "rating-form").await;
    subscriber.find("form.form button[type=submit]").await.click().await;
    subscriber.wait_for(".notice[role=status]", WAIT).await;
    steps.shot(&subscriber, "rated").await;
    subscriber.quit().await;

    let evaluation = app.store().evaluation(&answer_id).await.expect("read").expect("the rating is stored");
    assert_eq!((evaluation.rating, evaluation.comment.as_str()), (Rating::Satisfied, comment));
    assert_eq!((evaluation.ticket.as_str(), evaluation.agent_name.as_str()), (number.as_str(), "Anne de Vries"));
    let ticket = app.store().ticket(&number).await.expect("get").expect("stored");
    assert_eq!(ticket.state, TicketState::Resolved);
}

/// The id of the ticket's answer (what a rating rates).
async fn thread_answer_id(app: &TestApp, number: &str) -> String {
    let thread = app.store().messages(number).await.expect("thread");
    thread.iter().rfind(|m| m.kind == MessageKind::Answer).expect("an answer").id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_searches_and_opens_an_article_with_the_keyboard() {
    if skip() {
        return;
    }
    visitor_journey(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_searches_and_opens_an_article_without_javascript() {
    if skip() {
        return;
    }
    visitor_journey(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_from_invitation_to_rating() {
    if skip() {
        return;
    }
    ticket_journey(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_from_invitation_to_rating_without_javascript() {
    if skip() {
        return;
    }
    ticket_journey(false).await;
}

/// The switch itself: a page's inline script runs in one browser and not in the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_without_javascript_runs_no_script() {
    if skip() {
        return;
    }
    let (with, without) = tokio::join!(Browser::start(), Browser::start_without_js());
    assert!(with.scripts_enabled() && with.runs_scripts().await);
    assert!(!without.scripts_enabled() && !without.runs_scripts().await);
    tokio::join!(with.quit(), without.quit());
}
