//! Accounts: invitations (the account exists, the person sets a password through a link) and
//! password resets.

use minijinja::context;

use super::{INVITE_VALID, RESET_VALID, Service, ServiceError};
use crate::auth::{random_token, sha256_hex};
use crate::model::*;

/// How long a login waits for a free password-hashing slot before it is told to come back.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Service {
    /// Checks `password` against `hash` (or, for an account without one, against a dummy hash,
    /// so that the answer takes as long). At most one hash per core runs at once, so a flood of
    /// logins cannot exhaust memory: beyond that, requests wait a little, then get `Busy`.
    pub async fn check_password(&self, password: String, hash: Option<String>) -> Result<bool, ServiceError> {
        let _slot = tokio::time::timeout(HASH_WAIT, self.hashing.clone().acquire_owned())
            .await
            .map_err(|_| ServiceError::Busy)?
            .map_err(|_| ServiceError::Busy)?;
        let ok = tokio::task::spawn_blocking(move || {
            crate::auth::verify_password(&password, hash.as_deref().unwrap_or(crate::auth::dummy_hash()))
        })
        .await
        .unwrap_or(false);
        Ok(ok)
    }

    /// The argon2id hash of a new password, within the same bound as [`Self::check_password`].
    pub async fn hash_password(&self, password: String) -> Result<String, ServiceError> {
        let _slot = tokio::time::timeout(HASH_WAIT, self.hashing.clone().acquire_owned())
            .await
            .map_err(|_| ServiceError::Busy)?
            .map_err(|_| ServiceError::Busy)?;
        tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
            .await
            .map_err(|e| ServiceError::Invalid(e.to_string()))
    }

    /// Creates a user with no password and e-mails the invitation (set-password link).
    /// Returns the user and the link.
    pub async fn invite(&self, email: &str, name: &str, org: &Org, role: Role) -> Result<(User, String), ServiceError> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.parse::<lettre::Address>().is_err() {
            return Err(ServiceError::Invalid(format!("not an e-mail address: {email}")));
        }
        let user = User {
            id: random_token(12),
            email: email.clone(),
            name: if name.trim().is_empty() {
                email.split('@').next().unwrap_or_default().to_owned()
            } else {
                name.trim().to_owned()
            },
            org_id: org.id.clone(),
            role,
            password_hash: None,
            active: true,
            password_changed: None,
            created: self.clock.now(),
        };
        self.store.create_user(&user).await?;
        let link = self.issue_link(&user, TokenKind::Invite, "invite", INVITE_VALID).await?;
        let lang = self.lang();
        let mail = self.mail_in(
            &lang,
            &user.email,
            lang.fill("mail_subject_invite", &[("site", &self.config.site.name)]),
            "invite",
            context! { user => user, org => org, page => link_page(&link), code => link_code(&link), link => link, site => self.config.site, days => INVITE_VALID.num_days() },
        )?;
        self.store.enqueue_mail(&mail).await?;
        self.kick.kick();
        Ok((user, link))
    }

    /// Sends a password-reset link if the address belongs to an account; says nothing either way.
    pub async fn forgot_password(&self, email: &str) -> Result<(), ServiceError> {
        let Some(user) = self.store.user_by_email(email.trim()).await?.filter(|u| u.active) else { return Ok(()) };
        let link = self.issue_link(&user, TokenKind::Reset, "password/reset", RESET_VALID).await?;
        let lang = self.lang();
        let mail = self.mail_in(
            &lang,
            &user.email,
            lang.fill("mail_subject_reset", &[("site", &self.config.site.name)]),
            "reset",
            context! { user => user, page => link_page(&link), code => link_code(&link), link => link, site => self.config.site, minutes => RESET_VALID.num_minutes() },
        )?;
        self.store.enqueue_mail(&mail).await?;
        self.kick.kick();
        Ok(())
    }

    async fn issue_link(
        &self,
        user: &User,
        kind: TokenKind,
        path: &str,
        valid: chrono::Duration,
    ) -> Result<String, ServiceError> {
        let secret = random_token(32);
        let token = Token {
            hash: sha256_hex(&secret),
            kind,
            user_id: user.id.clone(),
            ticket: None,
            expires: self.clock.now() + valid,
        };
        self.store.put_token(&token).await?;
        // The secret travels after `#`: browsers never send the fragment, so it stays out of
        // request lines, CDN and server logs and Referer headers; the page hands it to the form
        // (portal.js), or the person pastes it (the mail shows it) where no script runs.
        Ok(format!("{}/{path}#{secret}", self.base_url))
    }
}

/// A link of [`Service::issue_link`] without its secret: the page to enter the code on.
fn link_page(link: &str) -> &str {
    link.split_once('#').map_or(link, |(page, _)| page)
}

/// The secret of a link of [`Service::issue_link`], to type or paste where the link cannot be
/// opened with its fragment (no JavaScript, a mail program that drops it).
fn link_code(link: &str) -> &str {
    link.split_once('#').map_or("", |(_, code)| code)
}
