//! `check` finds every kind of problem an editor can make, each at the right file and line.

mod common;
use common::{CAT_NL, Fixture, article};

fn only(problems: Vec<String>) -> String {
    assert_eq!(problems.len(), 1, "expected one problem, got: {problems:#?}");
    problems.into_iter().next().unwrap_or_default()
}

#[test]
fn clean_content_has_no_problems() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", &article("A", "Zie [B](b.md#tweede-stap).\n")),
        ("faq/nl/tickets/b.md", &article("B", "## Eerste stap\n\n## Tweede stap\n")),
    ]);
    assert_eq!(f.check(), Vec::<String>::new());
}

#[test]
fn front_matter_syntax_error_names_the_line() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", "+++\ntitle = \"A\"\ntags = [\"x\"\n+++\nTekst\n"),
    ]);
    let p = only(f.check());
    assert!(p.starts_with("content/faq/nl/tickets/a.md:3: "), "{p}");
    assert!(p.contains("| tags = [\"x\""), "shows the offending line: {p}");
}

#[test]
fn missing_front_matter_is_reported() {
    let f = Fixture::new(&[("faq/nl/tickets/_index.md", CAT_NL), ("faq/nl/tickets/a.md", "# A\n\nTekst\n")]);
    let p = only(f.check());
    assert!(p.starts_with("content/faq/nl/tickets/a.md:1: the file must start with front matter"), "{p}");
}

#[test]
fn unknown_front_matter_key_is_an_error() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", "+++\ntitle = \"A\"\nauthor = \"Piet\"\n+++\nTekst\n"),
    ]);
    let p = only(f.check());
    assert!(p.starts_with("content/faq/nl/tickets/a.md:3: unknown field `author`"), "{p}");
}

#[test]
fn missing_title_is_an_error() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", "+++\ndescription = \"Zonder titel\"\n+++\nTekst\n"),
    ]);
    assert_eq!(
        only(f.check()),
        "content/faq/nl/tickets/a.md:1: missing required key `title` in the front matter\n    | +++"
    );
}

#[test]
fn a_file_that_is_not_utf8_names_where() {
    let f = Fixture::new(&[("faq/nl/tickets/_index.md", CAT_NL)]);
    let mut bytes = article("Latin-1", "Een caf").into_bytes();
    bytes.push(0xe9); // `é` in Latin-1
    bytes.extend_from_slice(b" in de tekst\n");
    std::fs::write(f.content().join("faq/nl/tickets/a.md"), &bytes).expect("write");
    let line = article("Latin-1", "").lines().count() + 1;
    assert_eq!(
        only(f.check()),
        format!("content/faq/nl/tickets/a.md:{line}: not UTF-8 text at byte 8 of the line: save the file as UTF-8")
    );
}

#[test]
fn duplicate_slugs_are_reported() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/wachtwoord.md", &article("A", "x\n")),
        ("faq/nl/tickets/Wachtwoord.md", &article("B", "y\n")),
    ]);
    let problems = f.check();
    assert!(
        problems.iter().any(|p| p.starts_with("content/faq/nl/tickets/") && p.contains("duplicate slug `wachtwoord`")),
        "{problems:#?}"
    );
    assert!(problems.iter().any(|p| p.contains("rename it to `wachtwoord.md`")), "{problems:#?}");
}

#[test]
fn broken_internal_link_names_file_and_line() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", &article("A", "Eerste regel.\n\nZie [de uitleg](../account/bestaat-niet.md) hier.\n")),
    ]);
    assert_eq!(
        only(f.check()),
        "content/faq/nl/tickets/a.md:6: broken link: `../account/bestaat-niet.md` does not exist \
         (looked for content/faq/nl/account/bestaat-niet.md)\n    | Zie [de uitleg](../account/bestaat-niet.md) hier."
    );
}

#[test]
fn broken_anchor_is_reported() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", &article("A", "Zie [B](b.md#derde-stap).\n")),
        ("faq/nl/tickets/b.md", &article("B", "## Eerste stap\n")),
    ]);
    let p = only(f.check());
    assert!(p.starts_with("content/faq/nl/tickets/a.md:4: broken link: "), "{p}");
    assert!(p.contains("no heading with anchor `#derde-stap`"), "{p}");
}

#[test]
fn javascript_links_are_refused_with_file_and_line() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        (
            "faq/nl/tickets/a.md",
            &article(
                "A",
                "Tekst.\n\n[klik](javascript:alert(1)) en [mail](mailto:a@b.nl)\n\n![x](JaVaScript:alert(2))\n",
            ),
        ),
    ]);
    let problems = f.check();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("content/faq/nl/tickets/a.md:6: unsafe link `javascript:`"), "{problems:?}");
    assert!(problems[1].starts_with("content/faq/nl/tickets/a.md:8: unsafe link `javascript:`"), "{problems:?}");
}

#[test]
fn broken_absolute_link_is_reported_and_service_links_are_fine() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", &article("A", "[Portal](/portal/tickets/new) en [weg](/nl/nergens/)\n")),
    ]);
    let p = only(f.check());
    assert!(p.starts_with("content/faq/nl/tickets/a.md:4: broken link: there is no page at `/nl/nergens/`"), "{p}");
}

#[test]
fn missing_image_is_reported() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", &article("A", "Tekst\n\n![Scherm](../../../static/img/scherm.png)\n")),
    ]);
    let p = only(f.check());
    assert!(p.starts_with("content/faq/nl/tickets/a.md:6: missing image: "), "{p}");
    assert!(p.contains("content/static/img/scherm.png"), "{p}");
}

#[test]
fn article_in_unknown_category_is_reported() {
    let f = Fixture::new(&[("faq/nl/tickets/_index.md", CAT_NL), ("faq/nl/factuur/a.md", &article("A", "Tekst\n"))]);
    assert!(only(f.check()).starts_with(
        "content/faq/nl/factuur/a.md:1: unknown category `factuur`: there is no content/faq/nl/factuur/_index.md"
    ));
}

#[test]
fn colliding_aliases_are_reported() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", "+++\ntitle = \"A\"\naliases = [\"/oud/\"]\n+++\nx\n"),
        ("faq/nl/tickets/b.md", "+++\ntitle = \"B\"\n\naliases = [\"/oud/\"]\n+++\ny\n"),
        ("faq/nl/tickets/c.md", "+++\ntitle = \"C\"\naliases = [\"/nl/tickets/a/\"]\n+++\nz\n"),
    ]);
    let problems = f.check();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("content/faq/nl/tickets/b.md:4: alias `/oud/` collides with"), "{problems:#?}");
    assert!(
        problems[1].starts_with("content/faq/nl/tickets/c.md:3: alias `/nl/tickets/a/` collides with"),
        "{problems:#?}"
    );
}

#[test]
fn link_to_a_draft_is_broken() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", &article("A", "[Binnenkort](chat.md)\n")),
        ("faq/nl/tickets/chat.md", "+++\ntitle = \"Chat\"\ndraft = true\n+++\nx\n"),
    ]);
    assert!(only(f.check()).contains("broken link: `chat.md` is a draft"));
}

#[test]
fn configuration_errors_name_the_line() {
    let f = Fixture::new(&[("faq/nl/tickets/_index.md", CAT_NL)]);
    let config = std::fs::read_to_string(f.content().join("helpdesk.toml")).unwrap();
    let config = config.replacen("support_email =", "suport_email =", 1);
    f.write("helpdesk.toml", &config);
    let line = config.lines().position(|l| l.starts_with("suport_email")).unwrap() + 1;
    let p = only(f.check());
    assert!(p.starts_with(&format!("content/helpdesk.toml:{line}: unknown field `suport_email`")), "{p}");
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", "+++\ntitle = \"A\"\ncolour = \"groen\"\n+++\n"),
        ("faq/nl/tickets/b.md", &article("B", "[x](nope.md) ![y](nope.png)\n")),
        ("faq/nl/tickets/c.md", "+++\n+++\n# Kop\n"),
        ("faq/de/tickets/d.md", &article("D", "x")),
    ]);
    let problems = f.check();
    assert_eq!(problems.len(), 6, "{problems:#?}");
}

#[test]
fn a_linked_category_directory_is_read_and_a_directory_among_articles_is_reported() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/a.md", &article("A", "Tekst\n")),
        ("elders/_index.md", &CAT_NL.replace("Tickets", "Elders")),
        ("elders/b.md", &article("B", "Tekst\n")),
        ("faq/nl/tickets/map/c.md", &article("C", "Tekst\n")),
    ]);
    std::os::unix::fs::symlink(f.content().join("elders"), f.content().join("faq/nl/elders")).expect("symlink");
    let p = only(f.check());
    assert!(p.starts_with("content/faq/nl/tickets/map:1: unexpected file: only .md files"), "{p}");
    std::fs::remove_dir_all(f.content().join("faq/nl/tickets/map")).expect("remove");
    f.build();
    assert!(f.page("nl/elders/b/index.html").contains("<h1>B</h1>"));
}
