//! Dutch compounds and verb forms: compounds found written apart and glued, their parts on
//! their own below whole words, separable verbs, and the stored decomposition surviving the
//! packed index.

use std::sync::OnceLock;

use search_index::{Article, SearchIndex, SearchRequest, Section};

fn article(lang: &str, slug: &str, title: &str, text: &str) -> Article {
    Article {
        lang: lang.into(),
        category: "account".into(),
        category_title: "Account".into(),
        url: format!("/{lang}/account/{slug}/"),
        title: title.into(),
        description: None,
        tags: Vec::new(),
        sections: vec![Section { anchor: String::new(), heading: String::new(), text: text.into() }],
    }
}

/// A small site, opened from its packed bytes (as the service opens it).
fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let articles = vec![
            article(
                "nl",
                "klantenkaart",
                "Uw klantenkaart",
                "De klantenkaart staat in uw profiel. Bewaar de klantenkaart goed.",
            ),
            article(
                "nl",
                "kaart",
                "Een kaart bestellen",
                "Een kaart bestelt u in de winkel. Elke kaart is persoonlijk.",
            ),
            article(
                "nl",
                "klanten",
                "Klanten en collega's",
                "Klanten en collega's delen hun tickets. Nieuwe klanten krijgen een welkomstmail.",
            ),
            article(
                "nl",
                "reactietermijn",
                "Hoe snel krijgt u antwoord?",
                "De reactietermijn is vijf werkdagen. Binnen die termijn krijgt u een reactie van ons.",
            ),
            article(
                "nl",
                "wachtwoord",
                "Wachtwoord vergeten",
                "Vraag een nieuw wachtwoord aan. U krijgt een resetlink per e-mail. De link is een uur geldig.",
            ),
            article(
                "nl",
                "inloggen",
                "Inloggen lukt niet",
                "Bent u niet ingelogd? Log in met uw e-mailadres. Na drie pogingen is uw account geblokkeerd.",
            ),
            article(
                "nl",
                "instellingen",
                "Accountinstellingen",
                "In de accountinstellingen wijzigt u uw naam en taal.",
            ),
            article("nl", "profiel", "Uw profiel", "In het profiel staat uw naam. Ook uw taal staat er."),
            article("nl", "melding", "Meldingen", "Meldingen komen in uw mailbox terecht."),
            article(
                "nl",
                "portal",
                "De portal",
                "Open de portal. U logt in met uw e-mailadres en ziet dan uw tickets.",
            ),
            article("nl", "afmelden", "Afmelden", "Wilt u uitloggen? Klik op uw naam en kies Uitloggen."),
            article("en", "office-hours", "Office hours", "Our office hours are 9 to 5 on working days."),
            article("en", "password", "Forgot your password", "Ask for a reset link. The link is valid for an hour."),
        ];
        let built = search_index::build(&articles).expect("build");
        SearchIndex::from_bytes(&built.packed).expect("open")
    })
}

fn urls(q: &str, lang: &str) -> Vec<String> {
    let res = index().search(&SearchRequest::new(q).lang(lang).limit(10)).expect("search");
    res.results.into_iter().map(|h| h.url).collect()
}

fn top(q: &str, lang: &str) -> String {
    urls(q, lang).into_iter().next().unwrap_or_default()
}

#[test]
fn a_compound_written_apart_finds_the_compound() {
    assert_eq!(top("klanten kaart", "nl"), "/nl/account/klantenkaart/");
    assert_eq!(top("reactie termijn", "nl"), "/nl/account/reactietermijn/");
    assert_eq!(top("reset link", "nl"), "/nl/account/wachtwoord/");
    assert_eq!(top("account instellingen", "nl"), "/nl/account/instellingen/");
}

#[test]
fn a_compound_the_articles_do_not_have_finds_its_parts() {
    assert_eq!(top("wachtwoordreset", "nl"), "/nl/account/wachtwoord/");
    assert_eq!(top("officehours", "en"), "/en/account/office-hours/");
    assert_eq!(top("resetlink", "en"), "/en/account/password/");
    assert_eq!(top("profieltaal", "nl"), "/nl/account/profiel/");
}

#[test]
fn a_part_finds_its_compounds_below_the_whole_word() {
    let kaart = urls("kaart", "nl");
    assert_eq!(kaart.first().map(String::as_str), Some("/nl/account/kaart/"), "{kaart:?}");
    assert!(kaart.contains(&"/nl/account/klantenkaart/".to_owned()), "{kaart:?}");
    let instellingen = urls("instellingen", "nl");
    assert!(instellingen.contains(&"/nl/account/instellingen/".to_owned()), "{instellingen:?}");
}

#[test]
fn a_title_still_ranks_its_article_first() {
    for (q, url) in [
        ("Uw klantenkaart", "/nl/account/klantenkaart/"),
        ("Een kaart bestellen", "/nl/account/kaart/"),
        ("Klanten en collega's", "/nl/account/klanten/"),
        ("Accountinstellingen", "/nl/account/instellingen/"),
        ("Wachtwoord vergeten", "/nl/account/wachtwoord/"),
    ] {
        assert_eq!(top(q, "nl"), url, "{q}");
    }
}

#[test]
fn separable_verbs_and_participles_meet() {
    assert_eq!(top("ik log in", "nl"), "/nl/account/inloggen/");
    assert_eq!(top("ingelogd", "nl"), "/nl/account/inloggen/");
    assert_eq!(top("inloggen", "nl"), "/nl/account/inloggen/");
    assert_eq!(top("blokkeren", "nl"), "/nl/account/inloggen/");
    // `logt ... in` in the article is `inloggen`.
    let inloggen = urls("inloggen", "nl");
    assert!(inloggen.contains(&"/nl/account/portal/".to_owned()), "{inloggen:?}");
    assert!(!inloggen.contains(&"/nl/account/afmelden/".to_owned()), "{inloggen:?}");
}

#[test]
fn words_of_other_languages_do_not_count_as_known() {
    // `resetlink` is a word of the Dutch article only: in English it is split.
    assert!(urls("resetlink", "en").contains(&"/en/account/password/".to_owned()));
    assert!(urls("resetlink", "nl").contains(&"/nl/account/wachtwoord/".to_owned()));
}
