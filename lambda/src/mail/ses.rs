//! Sends mail through Amazon SES v2 as raw MIME: the message is the one the outbox would
//! write, byte for byte. SES gives every message its own id (and rewrites the Message-ID
//! header from it), so that id is what the store records for threading.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

use super::{MailError, Mailer};
use crate::model::OutgoingMail;

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    /// Optional SES configuration set (event publishing, suppression).
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: Client, configuration_set: Option<String>) -> Self {
        Self { client, configuration_set }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mail.raw.clone()))
            .build()
            .map_err(|e| MailError::Build(e.to_string()))?;
        let out = self
            .client
            .send_email()
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| MailError::Provider(DisplayErrorContext(e).to_string()))?;
        out.message_id.ok_or_else(|| MailError::Provider("SES returned no message id".into()))
    }

    /// One at a time: SES accounts start with a sending quota of 14 messages a second, and a
    /// throttled message waits 30 s for its retry.
    fn in_flight(&self) -> usize {
        1
    }
}
