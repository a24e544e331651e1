//! Passwords, secrets, sessions and login throttling.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::store::{Result, Store};

/// A random secret, URL-safe base64 of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Stores keep this, never the secret itself: a leaked database yields no working link or
/// session.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    let digest = Sha256::digest(data.as_ref());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal-time comparison for secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).unwrap_or_else(|_| SaltString::from_b64("c2FsdHNhbHRzYWx0").expect("salt"));
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash to verify against when the account does not exist, so that a wrong e-mail address
/// takes as long as a wrong password (no user enumeration by timing).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password"))
}

/// What a new password must be; the message is shown next to the field.
pub fn password_problem(password: &str, email: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars < 10 {
        Some("password_too_short")
    } else if chars > 200 {
        Some("password_too_long")
    } else if password.eq_ignore_ascii_case(email) {
        Some("password_is_email")
    } else {
        None
    }
}

/// Login throttling: at most `per_account` failed attempts per e-mail address and `per_ip` per
/// client address in a window of `window`; password-reset requests have limits of their own
/// (`resets_per_account`, `per_ip`), so resets cannot lock anybody out of logging in.
///
/// An attempt is counted (reserved) *before* the password is checked, so that parallel guesses
/// cannot all pass a check before any of them is counted; a successful login gives its
/// reservation back.
#[derive(Debug, Clone)]
pub struct Throttle {
    pub per_account: u32,
    pub per_ip: u32,
    pub resets_per_account: u32,
    pub window: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Self { per_account: 5, per_ip: 30, resets_per_account: 3, window: Duration::minutes(15) }
    }
}

/// An address as the throttle counts it: trimmed and lowercased, so `" Victim@x"` is the same
/// account as `"victim@x"` (and the same as the lookup finds).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Throttle {
    fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let w = self.window.num_seconds().max(1);
        DateTime::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(w), 0).unwrap_or(now)
    }

    fn keys(kind: &str, email: &str, ip: &str) -> (String, String) {
        (format!("{kind}:account:{}", sha256_hex(normalize_email(email))), format!("{kind}:ip:{ip}"))
    }

    /// Reserves one login attempt for this account and address; `false` when either has used
    /// up its attempts (the attempt must then not be evaluated).
    pub async fn reserve(&self, store: &dyn Store, email: &str, ip: &str, now: DateTime<Utc>) -> Result<bool> {
        let (account, addr) = Self::keys("login", email, ip);
        let start = self.window_start(now);
        let expires = start + self.window;
        let a = store.hit(&account, start, expires).await?;
        let i = store.hit(&addr, start, expires).await?;
        Ok(a <= self.per_account && i <= self.per_ip)
    }

    /// After a successful login: the account starts over, and the address gets its
    /// reservation back.
    pub async fn succeeded(&self, store: &dyn Store, email: &str, ip: &str, now: DateTime<Utc>) -> Result<()> {
        let (account, addr) = Self::keys("login", email, ip);
        let start = self.window_start(now);
        store.clear_hits(&account, start).await?;
        store.unhit(&addr, start).await
    }

    /// Counts one password-reset request; `false` when this account or address has asked too
    /// often.
    pub async fn reset_requested(&self, store: &dyn Store, email: &str, ip: &str, now: DateTime<Utc>) -> Result<bool> {
        let (account, addr) = Self::keys("reset", email, ip);
        let start = self.window_start(now);
        let expires = start + self.window;
        let a = store.hit(&account, start, expires).await?;
        let i = store.hit(&addr, start, expires).await?;
        Ok(a <= self.resets_per_account && i <= self.per_ip)
    }
}

/// A signing key. Its `Debug` shows nothing of it, so it never reaches a log.
#[derive(Clone)]
pub struct Secret(std::sync::Arc<Vec<u8>>);

impl Secret {
    pub fn new(bytes: &[u8]) -> Self {
        Self(std::sync::Arc::new(bytes.to_vec()))
    }

    /// A fresh random key of 32 bytes.
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(std::sync::Arc::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}
