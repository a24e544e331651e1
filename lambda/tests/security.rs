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
    app.subscriber("bob@aadorp.example", &a).await;
    assert_eq!(try_login(&app, &client(), "bob@aadorp.example", "een heel goed wachtwoord").await, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_is_throttled_per_client_address() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    app.subscriber("alice@aadorp.example", &a).await;
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
    let link = link_in(&invite.text, "/invite/").expect("link");
    // Used once already by `subscriber`: a second use fails.
    assert_eq!(app.set_password(&client(), &link, "nog een ander wachtwoord").await.status(), 410);

    // Forgot password -> reset link -> works once, and logs in with the new password.
    let c = client();
    let page = c.get(app.url("/password/forgot")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let resp = c
        .post(app.url("/password/forgot"))
        .form(&[("csrf_token", csrf.as_str()), ("email", "alice@aadorp.example")])
        .send()
        .await
        .expect("post");
    let same_answer = resp.text().await.expect("text");
    let reset = app.wait_for_mail("alice@aadorp.example", "Nieuw wachtwoord").await;
    let link = link_in(&reset.text, "/password/reset/").expect("link");
    assert_eq!(app.set_password(&c, &link, "mijn nieuwe wachtwoord").await.status(), 303);
    assert_eq!(app.set_password(&client(), &link, "weer een wachtwoord").await.status(), 410);
    // Unknown addresses get the same answer (no enumeration). (Logging in rotated the CSRF
    // token, so fetch the form again.)
    let page = c.get(app.url("/password/forgot")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let resp = c
        .post(app.url("/password/forgot"))
        .form(&[("csrf_token", csrf.as_str()), ("email", "niemand@aadorp.example")])
        .send()
        .await
        .expect("post");
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
