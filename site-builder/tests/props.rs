//! Property tests (proptest) of the content pipeline: any front matter and markdown an editor
//! could write is either built or refused with `file:line` diagnostics, never a panic, and no
//! markup in it reaches the page as live HTML (scripts, event handlers, `javascript:` links).
//! Each case builds a whole site, so the default is 24 cases (`PROPTEST_CASES` for more).

mod common;

use common::Fixture;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// Markdown with hostile pieces among ordinary ones.
fn markdown() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "[a-zA-Z ]{1,30}\n",
        Just("\n## Kop\n".to_owned()),
        Just("- punt\n".to_owned()),
        Just("<script>alert(1)</script>\n".to_owned()),
        Just("<img src=x onerror=alert(1)>\n".to_owned()),
        Just("[klik](javascript:alert(1))\n".to_owned()),
        Just("<a href=\"javascript:alert(1)\">x</a>\n".to_owned()),
        Just("<svg onload=alert(1)><circle/></svg>\n".to_owned()),
        Just("<iframe src=\"https://evil.example\"></iframe>\n".to_owned()),
        Just("![plaatje](x\" onerror=\"alert(1))\n".to_owned()),
        Just("<details open ontoggle=alert(1)>x</details>\n".to_owned()),
        Just("```html\n<script>in code</script>\n```\n".to_owned()),
        Just("| a | b |\n|---|---|\n| <b onmouseover=alert(1)>c</b> | d |\n".to_owned()),
        Just("<!-- <script>x</script> -->\n".to_owned()),
        any::<String>(),
    ];
    prop::collection::vec(pieces, 1..10).prop_map(|v| v.concat())
}

fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ]{3,30}",
        Just("<script>alert(1)</script>".to_owned()),
        Just("\"><img src=x onerror=alert(1)>".to_owned()),
        Just("\\\"; onerror = \\\"".to_owned()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_article_builds_or_is_refused_and_never_runs_markup(title in title(), body in markdown()) {
        let front = format!("+++\ntitle = {}\ndescription = \"Uitleg\"\n+++\n", toml_string(&title));
        let article = format!("{front}{body}");
        let fx = Fixture::new(&[
            ("faq/nl/tickets/_index.md", "+++\ntitle = \"Tickets\"\ndescription = \"Over tickets\"\n+++\nIntro.\n"),
            ("faq/nl/tickets/proef.md", &article),
        ]);
        let problems = fx.check();
        if !problems.is_empty() {
            prop_assert!(problems.iter().all(|p| p.contains(".md:") || p.contains(".toml:")), "{problems:?}");
            return Ok(());
        }
        let mut opts = site_builder::BuildOptions::new(fx.content(), fx.out());
        opts.dates = site_builder::Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
        site_builder::build(&opts).expect("what check accepts, build builds");
        let html = std::fs::read_to_string(fx.out().join("nl/tickets/proef/index.html")).expect("page");
        let lower = html.to_lowercase();
        prop_assert!(!lower.contains("<script>alert"), "a script from the markdown is live");
        // As text (escaped, or `[klik](javascript:...)` inside an HTML block) these are harmless;
        // as an attribute inside a tag they are not.
        let in_tag = |i: usize| lower[..i].rfind('<').unwrap_or(0) > lower[..i].rfind('>').unwrap_or(0);
        for needle in ["=\"javascript:", "='javascript:", "=javascript:", "onerror=", "onload=", "onmouseover=", "ontoggle="] {
            for (i, _) in lower.match_indices(needle) {
                prop_assert!(!in_tag(i), "{needle} inside a tag in the page");
            }
        }
        prop_assert!(!lower.contains("<iframe"), "an iframe from the markdown is live");
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}
