//! The local mailer: each message becomes an `.eml` file in the outbox folder, readable by any
//! mail client.

use std::path::PathBuf;

use async_trait::async_trait;

use super::{MailError, Mailer};
use crate::model::OutgoingMail;

#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        // Sortable by time; written to a temporary name first so readers never see half a file.
        let name = format!("{}-{}.eml", mail.created.format("%Y%m%dT%H%M%S%.3fZ"), mail.id);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, &mail.raw).await.map_err(|e| MailError::Provider(e.to_string()))?;
        tokio::fs::rename(&tmp, self.dir.join(&name)).await.map_err(|e| MailError::Provider(e.to_string()))?;
        Ok(name)
    }
}
