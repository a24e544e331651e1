//! The service under AWS Lambda (`AWS_LAMBDA_RUNTIME_API` is set): the same router as
//! `helpdesk serve`, driven by `lambda_http` from Function URL events.
//!
//! Everything is built once at cold start: configuration (embedded `helpdesk.toml`), the AWS
//! clients, templates, the search index. Logs are JSON lines (tracing), which CloudWatch
//! parses. A Lambda does no work between invocations, so the mail that a request queued is
//! delivered before its answer returns. Mail that failed then (SES throttling, an outage) stays
//! queued in the store; the same binary deployed with `HELPDESK_LAMBDA_ROLE=mail-retry` is a
//! second, scheduled function that delivers whatever is due (see `MailRetryFunction` in
//! `infra/template.yaml`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use site_builder::HelpdeskConfig;

use crate::mail::Mailer;
use crate::{AppState, Service, app, backends};

const CONFIG: &str = include_str!("../../content/helpdesk.toml");

/// Runs the Lambda runtime loop; returns only on a fatal error.
pub fn run() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .without_time()
        .with_current_span(false)
        .with_target(false)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match std::env::var("HELPDESK_LAMBDA_ROLE").as_deref() {
        Ok("mail-retry") => return runtime.block_on(mail_retry(started)),
        Ok("inbound-mail") => return runtime.block_on(inbound_mail(started)),
        _ => {}
    }
    runtime.block_on(async {
        let router = router().await?;
        tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1e3, "cold start: ready for requests");
        lambda_http::run(router).await.map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
    })
}

/// The service as the environment configures it, with its mailer.
async fn service() -> anyhow::Result<(Arc<Service>, Arc<dyn Mailer>)> {
    let config =
        HelpdeskConfig::parse(CONFIG, Path::new("content/helpdesk.toml")).map_err(|d| anyhow::anyhow!("{d}"))?;
    // Lambda's only writable place is /tmp (SQLite there is for trying things out).
    let data_dir = PathBuf::from(std::env::var("HELPDESK_DATA_DIR").unwrap_or_else(|_| "/tmp/helpdesk".into()));
    let store = backends::store(&data_dir).await?;
    let base_url = std::env::var("HELPDESK_BASE_URL").unwrap_or_else(|_| "http://localhost".into());
    let from = std::env::var("HELPDESK_FROM")
        .unwrap_or_else(|_| format!("{} <{}>", config.site.name, config.site.support_email));
    let mailer = backends::mailer(&data_dir, &from).await?;
    // On AWS every instance must sign alike, so the key must come from the environment; the
    // SQLite try-out keeps one in its data directory.
    let local = std::env::var("HELPDESK_STORE").map_or(true, |s| s == "sqlite");
    let secret = backends::secret(local.then_some(data_dir.as_path()))?;
    let mut service = Service::new(config, store, base_url, from, data_dir.join("attachments")).with_secret(&secret);
    if let Some(files) = backends::files().await? {
        service = service.with_files(files);
    }
    Ok((Arc::new(service), mailer))
}

/// The Lambda's router: the service plus origin verification and mail delivery.
pub async fn router() -> anyhow::Result<axum::Router> {
    let (service, mailer) = service().await?;
    let task_root = PathBuf::from(std::env::var("LAMBDA_TASK_ROOT").unwrap_or_else(|_| ".".into()));
    let site_dir = task_root.join("site");
    // The index ships with the function; read it into memory now, at cold start. Zero-result
    // queries are counted in the store (DynamoDB), like on one machine.
    let search = Arc::new(crate::search::SearchHandle::new(site_dir.join("search"), None, Some(service.store.clone())));
    search.current().await;
    // A Lambda does nothing between invocations: what a POST queued is sent before it answers.
    let router = app(AppState { site_dir, builds: None, service, search, deliver_after_posts: Some(mailer) });
    // Fail closed: without the secret nothing can prove it came through CloudFront, so
    // nothing is served.
    let secret = std::env::var("HELPDESK_ORIGIN_SECRET").ok().filter(|s| !s.is_empty());
    if secret.is_none() {
        tracing::error!("HELPDESK_ORIGIN_SECRET is not set: every request is refused");
    }
    Ok(router.layer(axum::middleware::from_fn_with_state(Arc::new(secret), verify_origin)))
}

/// The scheduled function: each invocation (any event; EventBridge sends one every few
/// minutes) closes resolved tickets nobody reacted to, then delivers the mail that is due, in
/// rounds, until none is left or time runs short.
async fn mail_retry(started: std::time::Instant) -> anyhow::Result<()> {
    use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

    let (service, mailer) = service().await?;
    let store = service.store.clone();
    tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1e3, "cold start: mail retry ready");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (service, store, mailer) = (service.clone(), store.clone(), mailer.clone());
        async move {
            match service.close_quiet_tickets().await {
                Ok(0) => {}
                Ok(closed) => tracing::info!(closed, "closed resolved tickets without a reaction"),
                Err(e) => tracing::warn!(error = %e, "closing quiet tickets failed"),
            }
            // Leave a margin before the invocation's deadline; what is left waits for the next one.
            let deadline = event.context.deadline().checked_sub(std::time::Duration::from_secs(10));
            let mut sent = 0;
            loop {
                let round = crate::mail::deliver_due(store.as_ref(), mailer.as_ref(), chrono::Utc::now()).await;
                sent += round;
                if round == 0 || deadline.is_some_and(|d| std::time::SystemTime::now() >= d) {
                    break;
                }
            }
            tracing::info!(sent, "mail retry done");
            Ok::<_, lambda_runtime::Error>(serde_json::json!({ "sent": sent }))
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}

/// The inbound-mail function: SES stores each message for the helpdesk in the inbound bucket
/// (`HELPDESK_INBOUND_BUCKET`, under `inbound/`) and then invokes this with the receipt event.
/// Each message becomes a ticket or a reply (or a polite answer, or nothing for a robot); the
/// acknowledgements go out before the invocation ends. A failure fails the invocation: Lambda
/// retries it twice, then it lands in the dead-letter queue.
async fn inbound_mail(started: std::time::Instant) -> anyhow::Result<()> {
    use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

    let (service, mailer) = service().await?;
    let s3 = backends::s3_client().await;
    let bucket = std::env::var("HELPDESK_INBOUND_BUCKET").ok().filter(|b| !b.is_empty());
    tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1e3, "cold start: inbound mail ready");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (service, mailer, s3, bucket) = (service.clone(), mailer.clone(), s3.clone(), bucket.clone());
        async move {
            let outcomes = handle_inbound(&service, mailer.as_ref(), &s3, &event.payload, bucket.as_deref()).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({ "handled": outcomes }))
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}

/// One inbound-mail invocation: the messages `event` names, then the mail they caused.
pub async fn handle_inbound(
    service: &Service,
    mailer: &dyn Mailer,
    s3: &aws_sdk_s3::Client,
    event: &serde_json::Value,
    bucket: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let outcomes = crate::intake::receive_from_s3(service, s3, event, bucket, INBOUND_PREFIX).await?;
    crate::mail::deliver_due(service.store.as_ref(), mailer, chrono::Utc::now()).await;
    Ok(outcomes)
}

/// Where the receipt rule stores messages in the inbound bucket (`ObjectKeyPrefix`).
pub const INBOUND_PREFIX: &str = "inbound/";

/// Only CloudFront knows the origin secret it adds as `X-Origin-Verify`; a request that comes
/// straight to the Function URL is refused, and so is every request when no secret is set.
async fn verify_origin(State(secret): State<Arc<Option<String>>>, req: Request, next: Next) -> Response {
    let given = req.headers().get("x-origin-verify").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if secret.as_deref().is_some_and(|s| crate::auth::same_secret(given, s)) {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "forbidden").into_response()
    }
}
