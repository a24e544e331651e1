//! Ratings of answers. The answer e-mail carries links with a token that names the ticket, the
//! answer and when it was issued, signed with the service's secret (HMAC-SHA-256): no login is
//! needed, nothing is stored until the subscriber submits the form, and a token can neither be
//! forged nor moved to another answer. A rating can be changed while the token is valid.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Service, ServiceError};
use crate::model::*;

/// How long a rating link works (and a rating can be changed).
pub const EVALUATION_VALID: chrono::Duration = chrono::Duration::days(28);
/// The longest comment kept.
pub const MAX_COMMENT: usize = 4_000;

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationLink {
    pub ticket: String,
    pub answer_id: String,
    pub issued: DateTime<Utc>,
}

/// Why a token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Not made by this service (or damaged).
    Invalid,
    /// Older than [`EVALUATION_VALID`].
    Expired,
}

impl Service {
    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(self.secret.as_bytes()).expect("HMAC takes keys of any length")
    }

    /// The token for rating `answer_id` on `ticket`: `payload.signature`, both URL-safe base64.
    pub fn evaluation_token(&self, ticket: &str, answer_id: &str, issued: DateTime<Utc>) -> String {
        let payload = format!("{ticket}\n{answer_id}\n{}", issued.timestamp());
        let mut mac = self.mac();
        mac.update(b"evaluate\n");
        mac.update(payload.as_bytes());
        let signature = mac.finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(signature))
    }

    /// Checks a token's signature and age.
    pub fn evaluation_link(&self, token: &str) -> Result<EvaluationLink, LinkProblem> {
        let (payload, signature) = token.split_once('.').ok_or(LinkProblem::Invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| LinkProblem::Invalid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| LinkProblem::Invalid)?;
        let mut mac = self.mac();
        mac.update(b"evaluate\n");
        mac.update(&payload);
        mac.verify_slice(&signature).map_err(|_| LinkProblem::Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| LinkProblem::Invalid)?;
        let mut parts = payload.split('\n');
        let (Some(ticket), Some(answer_id), Some(issued), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkProblem::Invalid);
        };
        let issued = issued.parse().ok().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or(LinkProblem::Invalid)?;
        if self.clock.now() > issued + EVALUATION_VALID {
            return Err(LinkProblem::Expired);
        }
        Ok(EvaluationLink { ticket: ticket.to_owned(), answer_id: answer_id.to_owned(), issued })
    }

    /// The answer a link rates, with its ticket (None when either is gone).
    pub async fn rated_answer(&self, link: &EvaluationLink) -> Result<Option<(Ticket, Message)>, ServiceError> {
        let Some(ticket) = self.store.ticket(&link.ticket).await? else { return Ok(None) };
        let messages = self.store.messages(&ticket.number).await?;
        let answer = messages.into_iter().find(|m| m.id == link.answer_id && m.kind == MessageKind::Answer);
        Ok(answer.map(|a| (ticket, a)))
    }

    /// Records (or changes) the rating of the answer a valid link names.
    pub async fn evaluate(
        &self,
        link: &EvaluationLink,
        rating: Rating,
        comment: &str,
    ) -> Result<Option<Evaluation>, ServiceError> {
        let Some((ticket, answer)) = self.rated_answer(link).await? else { return Ok(None) };
        let now = self.clock.now();
        let earlier = self.store.evaluation(&answer.id).await?;
        let evaluation = Evaluation {
            answer_id: answer.id.clone(),
            ticket: ticket.number.clone(),
            agent_id: answer.author_id.clone(),
            agent_name: answer.author_name.clone(),
            sector: ticket.sector.clone(),
            rating,
            comment: comment.trim().chars().take(MAX_COMMENT).collect(),
            created: earlier.map(|e| e.created).unwrap_or(now),
            updated: now,
        };
        self.store.put_evaluation(&evaluation).await?;
        Ok(Some(evaluation))
    }
}
