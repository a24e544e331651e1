//! Sends mail through an SMTP server (`HELPDESK_MAILER=smtp`, `HELPDESK_SMTP_URL`), for a
//! one-machine install with a real mailbox: the company's own mail server or a provider's
//! submission port. The URL says how to connect, as lettre reads it:
//!
//! - `smtps://user:password@smtp.example.com:465`: TLS from the first byte;
//! - `smtp://user:password@smtp.example.com:587?tls=required`: STARTTLS, refused without it;
//! - `smtp://127.0.0.1:25`: no TLS and no login (a relay on the same machine).
//!
//! User and password are percent-encoded in the URL. The message is sent exactly as composed
//! (the bytes the outbox would write); the envelope is the From address and the recipient.

use async_trait::async_trait;
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{MailError, Mailer};
use crate::model::OutgoingMail;

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The envelope sender (bounces go here): the helpdesk's address.
    from: lettre::Address,
    /// For logs: the URL without its password.
    server: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("server", &self.server).field("from", &self.from).finish()
    }
}

impl SmtpMailer {
    /// `url` as above; `from` is the helpdesk's sender (`Name <address>` or an address).
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Provider(format!("HELPDESK_SMTP_URL: {e}")))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let mailbox: lettre::message::Mailbox = from.parse().map_err(|_| MailError::Address(from.to_owned()))?;
        let server = match url::Url::parse(url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                u.to_string()
            }
            Err(_) => "(unreadable URL)".to_owned(),
        };
        Ok(Self { transport, from: mailbox.email, server })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        let to: lettre::message::Mailbox = mail.to.parse().map_err(|_| MailError::Address(mail.to.clone()))?;
        let envelope =
            Envelope::new(Some(self.from.clone()), vec![to.email]).map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send_raw(&envelope, &mail.raw)
            .await
            .map_err(|e| MailError::Provider(format!("{}: {e}", self.server)))?;
        Ok(mail.message_id.clone())
    }
}
