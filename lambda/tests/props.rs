//! Property tests (proptest) of the service's parsers and checks: whatever comes in, they do
//! not panic and what they let through keeps its promise. `PROPTEST_CASES` sets the number of
//! cases (256 by default here; e.g. `PROPTEST_CASES=100000` for a long run).

use helpdesk::mail::inbound;
use helpdesk::mail::{Draft, compose};
use helpdesk::model::Numbering;
use helpdesk::service::inbound::valid_administration;
use helpdesk::web::extract::safe_next;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// Text with the characters that trip parsers: markup, quotes, separators, controls, non-ASCII.
fn tricky_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        Just("<script>alert(1)</script>".to_owned()),
        Just("\"'&<>".to_owned()),
        Just("=?utf-8?B?PHNjcmlwdD4=?=".to_owned()),
        Just("\r\n".to_owned()),
        Just("\n> geciteerd\n".to_owned()),
        Just("-- \n".to_owned()),
        Just("Op ma 30 nov 2026 schreef X:\n".to_owned()),
        Just("één € “quote” 日本".to_owned()),
        Just("\u{0}\u{7}\u{1b}\u{feff}\u{202e}".to_owned()),
        any::<String>(),
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes: a message or a clear refusal, never a panic.
    #[test]
    fn inbound_parse_never_panics(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = inbound::parse(&raw, &["helpdesk@klaver.example".to_owned()]);
    }

    /// Headers that look like mail with anything in them.
    #[test]
    fn inbound_parse_survives_hostile_headers(name in tricky_text(), subject in tricky_text(), body in tricky_text()) {
        let raw = format!(
            "From: {name} <anna@ede.example>\r\nTo: helpdesk@klaver.example\r\nSubject: {subject}\r\n\
             Content-Type: text/html; charset=utf-8\r\n\r\n{body}\r\n"
        );
        if let Ok(m) = inbound::parse(raw.as_bytes(), &[]) {
            prop_assert!(!m.text.contains('\u{0}'), "control characters are removed");
        }
    }

    /// What the helpdesk writes, it reads back: subject, sender and text survive MIME encoding.
    #[test]
    fn composed_mail_reads_back(subject in "[^\u{0}-\u{1f}\u{7f}]{1,80}", text in "[^\u{0}-\u{8}\u{b}-\u{1f}\u{7f}]{1,400}") {
        prop_assume!(!subject.trim().is_empty() && !text.trim().is_empty());
        let draft = Draft {
            from: "Klaver Helpdesk <helpdesk@klaver.example>".into(),
            to: "anna@ede.example".into(),
            subject: subject.clone(),
            text: text.clone(),
            html: "<p>x</p>".into(),
            ..Default::default()
        };
        let mail = compose(&draft, chrono::Utc::now()).expect("compose");
        let read = inbound::parse(&mail.raw, &[]).expect("parse");
        prop_assert_eq!(read.from, "helpdesk@klaver.example");
        prop_assert_eq!(read.subject, subject.split_whitespace().collect::<Vec<_>>().join(" "));
        // Control characters are dropped on the way in (C1 ones too).
        let want: Vec<String> = text
            .lines()
            .map(|l| l.chars().filter(|c| !c.is_control() || *c == '\t').collect::<String>().trim_end().replace('\u{a0}', " "))
            .filter(|l| !l.trim().is_empty())
            .collect();
        let got: Vec<String> = read.text.lines().map(str::to_owned).filter(|l| !l.trim().is_empty()).collect();
        prop_assert_eq!(got.iter().map(|l| l.trim()).collect::<Vec<_>>(), want.iter().map(|l| l.trim()).collect::<Vec<_>>());
    }

    /// Trimming quotes and signatures only ever removes whole lines, and never everything.
    #[test]
    fn visible_part_keeps_whole_lines(text in tricky_text()) {
        let kept = inbound::visible_part(&text);
        let lines: Vec<&str> = text.lines().collect();
        for line in kept.lines() {
            prop_assert!(lines.iter().any(|l| l.contains(line.trim())), "{line:?} is not a line of the input");
        }
        if !text.trim().is_empty() {
            prop_assert!(!kept.trim().is_empty());
        }
    }

    /// After the login, only a path on this site: never another host however it is spelled.
    #[test]
    fn safe_next_stays_on_this_site(next in prop_oneof![
        any::<String>(),
        "/[a-z/\\\\\t\n%@:.]{0,20}",
        Just("//evil.example".to_owned()),
        Just("/\t/evil.example".to_owned()),
        Just("/\\evil.example".to_owned()),
        Just("https://evil.example".to_owned()),
    ]) {
        let target = safe_next(Some(&next));
        prop_assert!(target == "/portal" || target == next);
        prop_assert!(target.starts_with('/'));
        prop_assert!(!target.starts_with("//") && !target.contains('\\'));
        prop_assert!(!target.chars().any(char::is_control));
        // A browser resolving it against this site stays on this site.
        let base = url::Url::parse("https://helpdesk.klaver.example/login").expect("base");
        let resolved = base.join(&target).expect("resolves");
        prop_assert_eq!(resolved.host_str(), Some("helpdesk.klaver.example"));
    }

    /// An application page is kept only when a URL parser agrees it is on an allowed origin.
    #[test]
    fn application_pages_stay_on_their_origin(
        prefix in prop_oneof![
            Just("https://app.klaver.example"),
            Just("http://app.klaver.example"),
            Just("https://APP.klaver.example"),
            Just("https://evil.example"),
            Just("javascript:"),
        ],
        rest in "[a-z0-9/\\\\@:.?#%\t -]{0,30}",
    ) {
        let app = site_builder::config::ApplicationConfig { origins: vec!["https://app.klaver.example".into()] };
        let candidate = format!("{prefix}{rest}");
        if let Some(page) = app.page(&candidate) {
            let parsed = url::Url::parse(&page).expect("a kept page is a URL");
            prop_assert_eq!(parsed.origin().ascii_serialization(), "https://app.klaver.example");
        }
    }

    /// A taken administration has nothing in it that could be markup or a header.
    #[test]
    fn administrations_are_plain(s in tricky_text()) {
        if valid_administration(&s) {
            prop_assert!(s.chars().count() <= 40);
            prop_assert!(!s.chars().any(|c| c.is_control() || "<>&\"'/\\%=:;@".contains(c)));
        }
    }

    /// Every number the pattern makes is recognised as one.
    #[test]
    fn numbers_are_recognised(seq in 0u64..10_000_000, year in 2000i32..2100) {
        let at = chrono::NaiveDate::from_ymd_opt(year, 6, 1).expect("date").and_hms_opt(0, 0, 0).expect("time").and_utc();
        for pattern in ["INC-{year}-{seq:5}", "#{seq}", "T{seq:3}"] {
            let n = Numbering::new(pattern);
            prop_assert!(n.looks_like(&n.format(seq, at)), "{pattern} {seq}");
        }
    }
}
