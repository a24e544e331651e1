//! CSRF, login throttling, single-use and expiring links, escaping.

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn posts_without_the_csrf_token_are_rejected() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    // Login form without a token.
    let resp = client()
        .post(app.url("/login"))
        .form(&[("email", "alice@aadorp.example"), ("password", "een heel goed wachtwoord")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 403);
    // A ticket with a forged token.
    let resp = alice
        .post(app.url("/portal/tickets"))
        .multipart(ticket_form("forged-token-forged-token", "s", "Vraag"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 403);
    // Logout without a token does not log out.
    assert_eq!(alice.post(app.url("/logout")).form(&[("x", "y")]).send().await.expect("post").status(), 403);
    assert_eq!(alice.get(app.url("/portal")).send().await.expect("get").status(), 200);
}

/// The throttle counts in fixed windows (`auth::Throttle::window`). A test of its limits goes on
/// just after a window begins, so that its requests (a second or more each in a debug build)
/// never straddle two windows, where the count starts again. (After it, mail is due later than
/// the outbox's worker, which reads the real time, delivers it: invite people before.)
fn at_the_start_of_a_throttle_window(app: &TestApp) {
    let window = app.service.throttle.window.num_seconds();
    let into = app.service.clock.now().timestamp().rem_euclid(window);
    app.service.clock.advance(chrono::Duration::seconds(window - into + 1));
}

async fn try_login(app: &TestApp, c: &reqwest::Client, email: &str, password: &str) -> reqwest::StatusCode {
    let page = c.get(app.url("/login")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    c.post(app.url("/login"))
        .form(&[("csrf_token", csrf.as_str()), ("email", email), ("password", password), ("next", "/portal")])
        .send()
        .await
        .expect("post")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_is_throttled_per_account_and_does_not_enumerate_users() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("alice@aadorp.example", &a).await;
    app.subscriber("bob@aadorp.example", &a).await;
    at_the_start_of_a_throttle_window(&app);
    let c = client();
    // Unknown account and wrong password answer alike.
    let unknown = try_login(&app, &c, "nobody@aadorp.example", "wat dan ook 123").await;
    let wrong = try_login(&app, &c, "alice@aadorp.example", "fout wachtwoord 1").await;
    assert_eq!(unknown, 401);
    assert_eq!(wrong, 401);
    for i in 2..=5 {
        assert_eq!(try_login(&app, &c, "alice@aadorp.example", &format!("fout wachtwoord {i}")).await, 401);
    }
    // Five failures: now even the right password is refused for a while.
    assert_eq!(try_login(&app, &c, "alice@aadorp.example", "een heel goed wachtwoord").await, 429);
    // Another account from the same address still works.
    assert_eq!(try_login(&app, &client(), "bob@aadorp.example", "een heel goed wachtwoord").await, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_is_throttled_per_client_address() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("alice@aadorp.example", &a).await;
    at_the_start_of_a_throttle_window(&app);
    // Guessing across many accounts from one address: each account stays under its own limit
    // (one failure each), but the address runs out after 30.
    let c = client();
    for i in 0..30 {
        assert_eq!(try_login(&app, &c, &format!("gast{i}@aadorp.example"), "raden raden 1").await, 401, "attempt {i}");
    }
    assert_eq!(try_login(&app, &c, "gast30@aadorp.example", "raden raden 1").await, 429);
    // From that address even a right password now waits (alice's account has no failures).
    assert_eq!(try_login(&app, &client(), "alice@aadorp.example", "een heel goed wachtwoord").await, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invitation_and_reset_links_are_single_use_and_expire() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("alice@aadorp.example", &a).await;
    let invite = app.wait_for_mail("alice@aadorp.example", "Uitnodiging").await;
    let link = link_in(&invite.text, "/invite#").expect("link");
    // Used once already by `subscriber`: a second use fails.
    assert_eq!(app.set_password(&client(), &link, "nog een ander wachtwoord").await.status(), 410);

    // Forgot password -> reset link -> works once, and logs in with the new password.
    let c = client();
    let resp = ask_reset(&app, &c, "alice@aadorp.example").await;
    let same_answer = resp.text().await.expect("text");
    let reset = app.wait_for_mail("alice@aadorp.example", "Nieuw wachtwoord").await;
    let link = link_in(&reset.text, "/password/reset#").expect("link");
    assert_eq!(app.set_password(&c, &link, "mijn nieuwe wachtwoord").await.status(), 303);
    assert_eq!(app.set_password(&client(), &link, "weer een wachtwoord").await.status(), 410);
    // Unknown addresses get the same answer (no enumeration). (Logging in rotated the CSRF
    // token, so fetch the form again.)
    let resp = ask_reset(&app, &c, "niemand@aadorp.example").await;
    let other = resp.text().await.expect("text");
    assert_eq!(same_answer.replace("alice@aadorp.example", "X"), other.replace("niemand@aadorp.example", "X"));

    // An expired link does not work.
    let user = app.store().user_by_email("alice@aadorp.example").await.expect("get").expect("user");
    let secret = "an-expired-secret-of-sufficient-length";
    app.store()
        .put_token(&helpdesk::model::Token {
            hash: helpdesk::auth::sha256_hex(secret),
            kind: helpdesk::model::TokenKind::Reset,
            user_id: user.id,
            ticket: None,
            expires: chrono::Utc::now() - chrono::Duration::minutes(1),
        })
        .await
        .expect("put");
    let expired = app.url(&format!("/password/reset/{secret}"));
    assert_eq!(app.set_password(&client(), &expired, "een verlopen wachtwoord").await.status(), 410);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn script_typed_into_fields_comes_back_escaped() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    let x = "<script>alert('x')</script>";
    let location = file_ticket(&app, &alice, x).await;
    let page = alice.get(app.url(&location)).send().await.expect("get").text().await.expect("text");
    assert!(!page.contains(x));
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "{page}");
    let list = alice.get(app.url("/portal/tickets")).send().await.expect("get").text().await.expect("text");
    assert!(!list.contains(x));
    // The session cookie is HttpOnly and SameSite.
    let c = client();
    let page = c.get(app.url("/login")).send().await.expect("get");
    let cookie = page.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
}

/// Finding 1 (open redirect after login): `next` with a tab after the first slash (which
/// browsers strip, making `//evil.example`) or a backslash goes to the portal instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_redirect_after_login_is_closed() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("alice@aadorp.example", &a).await;
    for next in ["/\t/evil.example", "/\\evil.example", "//evil.example", "/\n/evil.example"] {
        let c = client();
        let url = format!("{}?next={}", app.url("/login"), helpdesk::render::urlencode(next));
        let page = c.get(url).send().await.expect("get").text().await.expect("text");
        assert_eq!(field(&page, "next").as_deref(), Some("/portal"), "{next:?} on the page");
        let csrf = field(&page, "csrf_token").expect("csrf");
        let resp = c
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", "alice@aadorp.example"),
                ("password", "een heel goed wachtwoord"),
                ("next", next),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 303);
        assert_eq!(resp.headers()["location"], "/portal", "{next:?} after login");
    }
}

/// Finding 14: `serve` sends the security headers CloudFront adds on AWS.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn security_headers_on_every_answer() {
    let app = spawn_app().await;
    for path in ["/login", "/healthz", "/no-such-page"] {
        let resp = client().get(app.url(path)).send().await.expect("get");
        let h = resp.headers();
        let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP")).to_str().expect("csp");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain http");
    }
}

/// Finding 11: forms without files take small bodies; a huge login post is refused unread.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn small_forms_have_small_body_limits() {
    let app = spawn_app().await;
    let c = client();
    let page = c.get(app.url("/login")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let big = "x".repeat(200 * 1024);
    for path in ["/login", "/password/forgot"] {
        let resp = c
            .post(app.url(path))
            .form(&[("csrf_token", csrf.as_str()), ("email", big.as_str()), ("password", "p")])
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 413, "{path}");
    }
}

/// Finding 6: a reply has the same size limit as a description, with a clear message and the
/// text kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replies_have_a_size_limit() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    let location = file_ticket(&app, &alice, "Vraag").await;
    let location = location.split('?').next().expect("path").to_owned();
    let page = alice.get(app.url(&location)).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let long = format!("begin {} eind", "lang ".repeat(12_000));
    let form = reqwest::multipart::Form::new().text("csrf_token", csrf).text("description", long.clone());
    let resp = alice.post(app.url(&format!("{location}/reply"))).multipart(form).send().await.expect("post");
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.expect("text");
    assert!(html.contains("te lang") && html.contains(long.trim_end()), "message and the text kept");
    let number = location.trim_start_matches("/portal/tickets/");
    assert_eq!(app.store().messages(number).await.expect("thread").len(), 1, "nothing stored");
}

/// Finding 3: 300 parallel guesses at one account: every attempt is counted before its
/// password is checked, so at most the allowed five are evaluated; the rest are refused (429)
/// or, when every hashing slot is busy, told to come back (503). None gets in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_are_counted_before_they_are_checked() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("alice@aadorp.example", &a).await;
    at_the_start_of_a_throttle_window(&app);
    let c = client();
    let page = c.get(app.url("/login")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let guesses = (0..300).map(|i| {
        let (c, csrf, url) = (c.clone(), csrf.clone(), app.url("/login"));
        async move {
            let password = format!("geraden wachtwoord {i}");
            c.post(url)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("email", " Alice@Aadorp.example"),
                    ("password", password.as_str()),
                ])
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    assert!(evaluated <= 5, "{evaluated} guesses were evaluated");
    assert!(statuses.iter().all(|s| [401, 429, 503].contains(s)), "{statuses:?}");
}

/// Finding 5: the reset throttle counts the same (normalised) address the lookup finds, and
/// resets have a limit of their own: asking for reset links does not lock anyone out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_resets_have_their_own_limit_on_the_normalised_address() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("alice@aadorp.example", &a).await;
    at_the_start_of_a_throttle_window(&app);
    let c = client();
    let page = c.get(app.url("/password/forgot")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let mut statuses = Vec::new();
    for email in ["alice@aadorp.example", " alice@aadorp.example", "ALICE@aadorp.example ", "\talice@aadorp.example"] {
        let resp = c
            .post(app.url("/password/forgot"))
            .form(&[("csrf_token", csrf.as_str()), ("email", email)])
            .send()
            .await
            .expect("post");
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429], "spelling the address differently gives no fresh counter");
    // Logging in still works.
    app.login("alice@aadorp.example").await;
}

/// Asks for a reset link for `email` through the form, as `c`.
async fn ask_reset(app: &TestApp, c: &reqwest::Client, email: &str) -> reqwest::Response {
    let page = c.get(app.url("/password/forgot")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    c.post(app.url("/password/forgot"))
        .form(&[("csrf_token", csrf.as_str()), ("email", email)])
        .send()
        .await
        .expect("post")
}

/// Logs in with a cookie-less client and returns the session cookie (`name=value`).
async fn session_cookie_of(app: &TestApp, email: &str) -> String {
    let c = client();
    let page = c.get(app.url("/login")).send().await.expect("get");
    let csrf_cookie =
        page.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let csrf = field(&page.text().await.expect("text"), "csrf_token").expect("csrf");
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(app.url("/login"))
        .header("cookie", csrf_cookie)
        .form(&[("csrf_token", csrf.as_str()), ("email", email), ("password", "een heel goed wachtwoord")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hd_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned()
}

/// Finding 8: with a session, the CSRF token is bound to it; a token planted as a cookie (from
/// a sibling subdomain, say) and submitted with the form is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csrf_tokens_are_bound_to_the_session() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("bob@aadorp.example", &a).await;
    let session = session_cookie_of(&app, "bob@aadorp.example").await;
    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let planted = "planted-by-a-sibling-subdomain-0123";
    let resp = raw
        .post(app.url("/logout"))
        .header("cookie", format!("{session}; hd_csrf={planted}"))
        .form(&[("csrf_token", planted)])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 403, "a planted double-submit token is not enough");
    // The token on the session's own pages works.
    let page =
        raw.get(app.url("/portal")).header("cookie", &session).send().await.expect("get").text().await.expect("text");
    let token = field(&page, "csrf_token").expect("csrf");
    let resp = raw
        .post(app.url("/logout"))
        .header("cookie", &session)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
}

/// Finding 10: sessions end after 2 hours idle (each request moves that on) and 7 days after
/// login; logging in ends the browser's previous session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_time_out_and_logging_in_ends_the_previous_one() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    let clock = &app.service.clock;
    // Active: 1 h 50 min between requests, twice, is fine.
    for _ in 0..2 {
        clock.advance(chrono::Duration::minutes(110));
        assert_eq!(alice.get(app.url("/portal")).send().await.expect("get").status(), 200);
    }
    // Idle for 2 hours: gone.
    clock.advance(chrono::Duration::minutes(121));
    assert_eq!(alice.get(app.url("/portal")).send().await.expect("get").status(), 303);
    // Busy all week long: still gone after 7 days.
    let alice = app.login("alice@aadorp.example").await;
    let mut last = 200;
    for _ in 0..(7 * 24 * 60 / 110 + 1) {
        clock.advance(chrono::Duration::minutes(110));
        last = alice.get(app.url("/portal")).send().await.expect("get").status().as_u16();
        if last != 200 {
            break;
        }
    }
    assert_eq!(last, 303, "7 days after login the session ends however busy");

    // A second login from the same browser replaces the first session.
    let first = session_cookie_of(&app, "alice@aadorp.example").await;
    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let page =
        raw.get(app.url("/login")).header("cookie", &first).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let resp = raw
        .post(app.url("/login"))
        .header("cookie", &first)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "alice@aadorp.example"),
            ("password", "een heel goed wachtwoord"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let old = raw.get(app.url("/portal")).header("cookie", &first).send().await.expect("get");
    assert_eq!(old.status(), 303, "the previous session ended");
}

/// Finding 10: setting a new password makes every reset link issued before it worthless.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_password_revokes_outstanding_reset_links() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("alice@aadorp.example", &a).await;
    let c = client();
    for _ in 0..2 {
        let resp = ask_reset(&app, &c, "alice@aadorp.example").await;
        assert_eq!(resp.status(), 200);
    }
    let mut links = Vec::new();
    for _ in 0..50 {
        links = app
            .mails()
            .iter()
            .filter(|m| m.to.contains("alice@") && m.subject.contains("wachtwoord"))
            .filter_map(|m| link_in(&m.text, "/password/reset#"))
            .collect();
        if links.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(links.len(), 2);
    // Time passes (a reset link is valid an hour), then the first link sets a new password.
    app.service.clock.advance(chrono::Duration::seconds(2));
    let resp = app.set_password(&client(), &links[0], "nog een heel goed wachtwoord").await;
    assert_eq!(resp.status(), 303);
    let resp = app.set_password(&client(), &links[1], "een derde goed wachtwoord").await;
    assert_eq!(resp.status(), 410, "the other link died with the password change");
}

/// A mailer as slow as a bad day at SES, that keeps what it sent.
#[derive(Debug, Default)]
struct SlowMailer(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl helpdesk::mail::Mailer for SlowMailer {
    async fn send(&self, mail: &helpdesk::model::OutgoingMail) -> Result<String, helpdesk::mail::MailError> {
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        self.0.lock().expect("lock").push(mail.to.clone());
        Ok(format!("slow-{}", mail.id))
    }
}

/// Finding 5: "send me a reset link" answers at the same moment for an address with an
/// account and one without, on the Lambda path too, where the mail is sent before the answer
/// leaves: the answer waits for a fixed floor that includes the sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reset_requests_take_the_same_time_for_known_and_unknown_addresses() {
    use helpdesk::web::account::RESET_ANSWER_TIME;
    let mailer = std::sync::Arc::new(SlowMailer::default());
    let app = spawn_app_delivering(mailer.clone()).await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.service.invite("alice@aadorp.example", "Alice", &a, helpdesk::model::Role::Subscriber).await.expect("invite");
    // The invitation goes out now, so that only reset mail is left for the requests.
    helpdesk::mail::deliver_due(app.store(), mailer.as_ref(), chrono::Utc::now()).await;
    mailer.0.lock().expect("lock").clear();
    let c = client();
    let mut took = Vec::new();
    for email in ["alice@aadorp.example", "nobody@aadorp.example", "alice@aadorp.example", "niemand@aadorp.example"] {
        let page = c.get(app.url("/password/forgot")).send().await.expect("get").text().await.expect("text");
        let csrf = field(&page, "csrf_token").expect("csrf");
        let started = std::time::Instant::now();
        let resp = c
            .post(app.url("/password/forgot"))
            .form(&[("csrf_token", csrf.as_str()), ("email", email)])
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 200);
        took.push((email, started.elapsed()));
    }
    // Both mails to the known address went out before their answers did.
    assert_eq!(*mailer.0.lock().expect("lock"), ["alice@aadorp.example", "alice@aadorp.example"]);
    for (email, t) in &took {
        // Never earlier than the floor; the 600 ms send fits inside it rather than adding to it.
        assert!(*t >= RESET_ANSWER_TIME, "{email}: answered after {t:?}, before the floor");
        assert!(*t < RESET_ANSWER_TIME + std::time::Duration::from_millis(500), "{email}: {t:?}, the send showed");
    }
}

/// Finding 10: invitation and reset links carry their secret after `#`, so no request line
/// (and no CDN or server log of it) holds it; the page asks for the code, which the mail also
/// shows for people without JavaScript, and the code works once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn link_secrets_stay_out_of_request_addresses() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.service.invite("alice@aadorp.example", "Alice", &a, helpdesk::model::Role::Subscriber).await.expect("invite");
    let invite = app.wait_for_mail("alice@aadorp.example", "Uitnodiging").await;
    let link = link_in(&invite.text, "/invite#").expect("link");
    let (page, code) = link.split_once('#').expect("fragment");
    assert_eq!(page, app.url("/invite"), "the address itself has no secret");
    assert!(code.len() >= 40, "{code}");
    assert!(invite.text.lines().any(|l| l.trim() == code), "the code on a line of its own for pasting");
    // Without script: the page asks for the code in a labelled field.
    let c = client();
    let form = c.get(page).send().await.expect("get").text().await.expect("text");
    assert!(form.contains(r#"<label for="token">"#) && form.contains(r#"id="token" name="token""#), "{form}");
    assert_eq!(set_password_at(&c, &link, "een heel goed wachtwoord").await.status(), 303);
    assert_eq!(c.get(app.url("/portal")).send().await.expect("portal").status(), 200, "logged in");
    assert_eq!(set_password_at(&client(), &link, "nog een ander wachtwoord").await.status(), 410, "once");

    // Reset links alike.
    app.service.forgot_password("alice@aadorp.example").await.expect("forgot");
    let reset = app.wait_for_mail("alice@aadorp.example", "wachtwoord").await;
    let link = link_in(&reset.text, "/password/reset#").expect("reset link");
    assert!(link.starts_with(&format!("{}#", app.url("/password/reset"))), "{link}");
    assert_eq!(set_password_at(&client(), &link, "een nieuw goed wachtwoord").await.status(), 303);
}
