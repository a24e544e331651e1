//! Which store and mailer the service uses, chosen by environment (the same names locally and
//! on Lambda): `HELPDESK_STORE=sqlite|dynamodb` (+ `HELPDESK_TABLE`), `HELPDESK_MAILER=outbox|smtp|ses`.
//! The AWS clients read their region, credentials and `AWS_ENDPOINT_URL` as the SDK does, and
//! are built once per process (at Lambda cold start).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::OnceCell;

use crate::mail::Mailer;
use crate::mail::outbox::OutboxMailer;
use crate::mail::ses::SesMailer;
use crate::store::Store;
use crate::store::dynamodb::DynamoStore;
use crate::store::sqlite::SqliteStore;

/// The table name when `HELPDESK_TABLE` is not set.
pub const DEFAULT_TABLE: &str = "helpdesk";

static SDK: OnceCell<aws_config::SdkConfig> = OnceCell::const_new();

/// The AWS SDK configuration from the environment, loaded once.
pub async fn sdk_config() -> &'static aws_config::SdkConfig {
    SDK.get_or_init(aws_config::load_from_env).await
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

pub fn table_name() -> String {
    setting("HELPDESK_TABLE", DEFAULT_TABLE)
}

pub async fn dynamo_store() -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk_config().await), table_name())
}

/// The store `HELPDESK_STORE` names; SQLite lives in `data_dir`.
pub async fn store(data_dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
    match setting("HELPDESK_STORE", "sqlite").as_str() {
        "sqlite" => Ok(Arc::new(SqliteStore::open(&data_dir.join("helpdesk.db")).context("opening the database")?)),
        "dynamodb" => Ok(Arc::new(dynamo_store().await)),
        other => anyhow::bail!("HELPDESK_STORE must be `sqlite` or `dynamodb`, not `{other}`"),
    }
}

/// Where attachments go (`HELPDESK_ATTACHMENTS=dir|s3`, `HELPDESK_BUCKET`): `None` keeps the
/// default folder under the data directory.
pub async fn files() -> anyhow::Result<Option<Arc<dyn crate::files::Files>>> {
    match setting("HELPDESK_ATTACHMENTS", "dir").as_str() {
        "dir" => Ok(None),
        "s3" => {
            let bucket = std::env::var("HELPDESK_BUCKET").context("HELPDESK_ATTACHMENTS=s3 needs HELPDESK_BUCKET")?;
            Ok(Some(Arc::new(crate::files::S3Files::new(s3_client().await, bucket))))
        }
        other => anyhow::bail!("HELPDESK_ATTACHMENTS must be `dir` or `s3`, not `{other}`"),
    }
}

/// The S3 client. On AWS it uses virtual-hosted URLs (`<bucket>.s3.<region>.amazonaws.com`,
/// the origin the site's Content-Security-Policy allows uploads to); with a stand-in endpoint
/// (`AWS_ENDPOINT_URL`, e.g. moto) path style, which every stand-in understands.
pub async fn s3_client() -> aws_sdk_s3::Client {
    let stand_in = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].iter().any(|v| std::env::var_os(v).is_some());
    let config = aws_sdk_s3::config::Builder::from(sdk_config().await).force_path_style(stand_in).build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The mailer `HELPDESK_MAILER` names; the outbox folder is in `data_dir`; `from` is the
/// envelope sender for SMTP.
pub async fn mailer(data_dir: &Path, from: &str) -> anyhow::Result<Arc<dyn Mailer>> {
    match setting("HELPDESK_MAILER", "outbox").as_str() {
        "smtp" => {
            let url = std::env::var("HELPDESK_SMTP_URL").context("HELPDESK_MAILER=smtp needs HELPDESK_SMTP_URL")?;
            Ok(Arc::new(crate::mail::smtp::SmtpMailer::new(&url, from)?))
        }
        "outbox" => Ok(Arc::new(OutboxMailer::new(data_dir.join("outbox")).context("creating the outbox")?)),
        "ses" => Ok(Arc::new(SesMailer::new(
            aws_sdk_sesv2::Client::new(sdk_config().await),
            std::env::var("HELPDESK_SES_CONFIGURATION_SET").ok().filter(|v| !v.is_empty()),
        ))),
        other => anyhow::bail!("HELPDESK_MAILER must be `outbox`, `smtp` or `ses`, not `{other}`"),
    }
}

/// The signing key: `HELPDESK_SECRET`, or (on one machine, when it is unset) a random key made
/// once and kept in `<data_dir>/secret`, readable by its owner only. `None` for `data_dir`
/// (Lambda) makes the variable required: links signed by one instance must work on all.
pub fn secret(data_dir: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = std::env::var("HELPDESK_SECRET").ok().filter(|s| s.len() >= 16) {
        return Ok(s.into_bytes());
    }
    let Some(dir) = data_dir else { anyhow::bail!("HELPDESK_SECRET must be set (at least 16 characters)") };
    let file = dir.join("secret");
    if let Ok(existing) = std::fs::read(&file)
        && existing.len() >= 32
    {
        return Ok(existing);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = crate::auth::random_token(32).into_bytes();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&file).with_context(|| format!("creating {}", file.display()))?;
    std::io::Write::write_all(&mut f, &key).with_context(|| format!("writing {}", file.display()))?;
    Ok(key)
}
