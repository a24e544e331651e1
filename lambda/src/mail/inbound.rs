//! Incoming mail, read with `mail-parser` (every charset, transfer encoding and MIME shape real
//! clients send): who sent it, what it answers, whether a machine sent it, and its text without
//! the quoted history and signature that replies drag along.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// The largest incoming message the service reads (SES accepts up to 40 MB).
pub const MAX_MAIL_BYTES: usize = 40 * 1024 * 1024;

/// One incoming message, as the ticket logic needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// Lowercased sender address.
    pub from: String,
    pub from_name: String,
    /// Every recipient address (To, Cc, Delivered-To, X-Original-To), lowercased.
    pub recipients: Vec<String>,
    pub subject: String,
    /// Without angle brackets; `None` when the message has none.
    pub message_id: Option<String>,
    /// In-Reply-To first, then References from the newest back.
    pub refs: Vec<String>,
    /// The References of the message itself, oldest first (to thread an answer to it).
    pub references: Vec<String>,
    /// The body as text (HTML-only mail converted; nothing remote is ever loaded).
    pub text: String,
    pub attachments: Vec<InboundFile>,
    /// Why this is not a person writing (an auto-reply, a bounce, a list), if it is not.
    pub machine: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("not an e-mail message")]
    Unreadable,
    #[error("the message has no sender address")]
    NoSender,
    #[error("the message is larger than {} MB", MAX_MAIL_BYTES / 1024 / 1024)]
    TooLarge,
}

/// Reads a message. `own` are the helpdesk's own addresses (mail from them is a loop).
pub fn parse(raw: &[u8], own: &[String]) -> Result<InboundMail, InboundError> {
    if raw.len() > MAX_MAIL_BYTES {
        return Err(InboundError::TooLarge);
    }
    let msg = MessageParser::default().parse(raw).ok_or(InboundError::Unreadable)?;
    if msg.headers().is_empty() {
        return Err(InboundError::Unreadable);
    }
    let sender = msg.from().and_then(|a| a.first()).ok_or(InboundError::NoSender)?;
    let from = sender.address().map(|a| a.trim().to_lowercase()).filter(|a| a.contains('@'));
    let from = from.ok_or(InboundError::NoSender)?;
    let from_name = sender.name().map(|n| n.trim().to_owned()).unwrap_or_default();

    let mut recipients: Vec<String> = Vec::new();
    for list in [msg.to(), msg.cc()].into_iter().flatten() {
        recipients.extend(list.iter().filter_map(|a| a.address()).map(|a| a.trim().to_lowercase()));
    }
    for name in ["Delivered-To", "X-Original-To"] {
        for value in msg.header_values(name) {
            if let Some(text) = value.as_text() {
                recipients.push(text.trim().trim_matches(['<', '>']).to_lowercase());
            }
        }
    }
    recipients.dedup();

    let ids = |v: &HeaderValue| -> Vec<String> {
        match v {
            HeaderValue::Text(t) => vec![t.to_string()],
            HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
            _ => vec![],
        }
    };
    let clean = |id: String| id.trim().trim_matches(['<', '>']).to_owned();
    let references: Vec<String> =
        ids(msg.references()).into_iter().map(clean).filter(|i| !i.is_empty() && i.len() <= 500).collect();
    let mut refs: Vec<String> =
        ids(msg.in_reply_to()).into_iter().map(clean).filter(|i| !i.is_empty() && i.len() <= 500).collect();
    for r in references.iter().rev() {
        if !refs.contains(r) {
            refs.push(r.clone());
        }
    }
    refs.truncate(30);

    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let text = normalise_text(&text);

    let mut attachments = Vec::new();
    for part in msg.attachments() {
        let filename = part
            .attachment_name()
            .map(str::to_owned)
            .unwrap_or_else(|| if part.is_message() { "message.eml".to_owned() } else { "attachment.bin".to_owned() });
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let bytes = match part.message() {
            Some(inner) => inner.raw_message().to_vec(),
            None => part.contents().to_vec(),
        };
        attachments.push(InboundFile { filename, content_type: content_type.to_lowercase(), bytes });
    }

    let machine = machine_reason(&msg, &from, own);
    Ok(InboundMail {
        from,
        from_name,
        recipients,
        subject: msg.subject().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default(),
        message_id: msg.message_id().map(|i| clean(i.to_owned())).filter(|i| !i.is_empty() && i.len() <= 500),
        refs,
        references,
        text,
        attachments,
        machine,
    })
}

/// Line ends as `\n`, no trailing spaces, no control characters but tab and newline, no runs of
/// blank lines.
fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let line: String = line.chars().filter(|c| !c.is_control() || *c == '\t').collect();
        let line = line.trim_end().replace('\u{a0}', " ");
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.trim().to_owned()
}

/// Why a message was sent by a machine rather than a person, the way RFC 3834 and the big
/// providers mark it; `None` for a person.
fn machine_reason(msg: &mail_parser::Message<'_>, from: &str, own: &[String]) -> Option<&'static str> {
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_lowercase());
    if own.iter().any(|o| o.eq_ignore_ascii_case(from)) {
        return Some("sent from the helpdesk's own address");
    }
    if let Some(loop_) = header("X-Loop")
        && own.iter().any(|o| loop_.contains(&o.to_lowercase()))
    {
        return Some("X-Loop names the helpdesk");
    }
    if header("Auto-Submitted").is_some_and(|v| v.split(';').next().unwrap_or("").trim() != "no") {
        return Some("Auto-Submitted");
    }
    if ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Self"].iter().any(|h| header(h).is_some()) {
        return Some("auto-reply header");
    }
    if header("Precedence").is_some_and(|p| matches!(p.as_str(), "bulk" | "junk" | "list" | "auto_reply")) {
        return Some("Precedence bulk/junk/list");
    }
    if !msg.list_id().is_empty() || header("List-Unsubscribe").is_some() {
        return Some("mailing list");
    }
    let local = from.split('@').next().unwrap_or_default();
    if ["mailer-daemon", "postmaster", "bounce", "bounces"].contains(&local)
        || local.starts_with("bounce-")
        || local.starts_with("bounces+")
    {
        return Some("bounce");
    }
    if msg.return_address().is_none() && header("Return-Path").is_some_and(|r| r == "<>") {
        return Some("empty Return-Path (a delivery report)");
    }
    if msg.root_part().content_type().is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("multipart") && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        return Some("delivery or read report");
    }
    let subject = msg.subject().unwrap_or_default().to_lowercase();
    const AUTO_SUBJECTS: [&str; 6] =
        ["automatic reply:", "automatisch antwoord:", "out of office", "afwezigheidsbericht", "auto:", "autoreply:"];
    if AUTO_SUBJECTS.iter().any(|p| subject.starts_with(p)) {
        return Some("auto-reply subject");
    }
    None
}

/// Whether the subject or text says this is a forward (its quoted part is the question then).
pub fn is_forward(subject: &str, text: &str) -> bool {
    let s = subject.trim_start().to_lowercase();
    ["fwd:", "fw:", "doorst:", "tr:", "wg:"].iter().any(|p| s.starts_with(p))
        || text.lines().take(20).any(|l| {
            let l = l.to_lowercase();
            l.contains("forwarded message") || l.contains("doorgestuurd bericht") || l.contains("begin forwarded")
        })
}

/// The part of a reply its writer wrote: without the quoted history (`> ` lines at the end and
/// their "On ... wrote:" line, Outlook's "From:/Sent:" block or "Original Message" line) and
/// without the signature (`-- `, "Sent from my ..."). A text that would end up empty stays whole.
pub fn visible_part(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = lines.len();
    // From the end: quoted lines (and blank lines between them) are history.
    let mut i = lines.len();
    while i > 0 && (lines[i - 1].trim_start().starts_with('>') || lines[i - 1].trim().is_empty()) {
        i -= 1;
    }
    if lines[i..].iter().any(|l| l.trim_start().starts_with('>')) {
        cut = i;
        // The attribution line before the quote, possibly wrapped over two lines.
        for back in 1..=2 {
            if cut >= back && is_attribution(&lines[cut - back..cut].join(" ")) {
                cut -= back;
                break;
            }
        }
    }
    // From the start: the first marker of history or signature.
    for (n, line) in lines[..cut].iter().enumerate() {
        let t = line.trim();
        let lower = t.to_lowercase();
        let starts_block = |l: &str| {
            ["from:", "van:", "de:", "von:"].iter().any(|p| l.starts_with(p))
                && lines[n + 1..cut.min(n + 6)].iter().any(|next| {
                    let next = next.trim().to_lowercase();
                    ["sent:", "verzonden:", "date:", "datum:", "to:", "aan:", "gesendet:"]
                        .iter()
                        .any(|p| next.starts_with(p))
                })
        };
        let is_marker = line.trim_end() == "--"
            || *line == "-- "
            || (t.starts_with("---")
                && (lower.contains("original message") || lower.contains("oorspronkelijk bericht")))
            || (t.starts_with("___") && t.chars().all(|c| c == '_') && t.len() >= 10)
            || starts_block(&lower)
            || is_attribution(&lower)
            || n + 1 < cut && is_attribution(&format!("{lower} {}", lines[n + 1].trim().to_lowercase()))
            || [
                "sent from my ",
                "verzonden vanaf mijn ",
                "verstuurd vanaf mijn ",
                "sent from outlook",
                "get outlook for",
            ]
            .iter()
            .any(|p| lower.starts_with(p));
        if is_marker {
            cut = n;
            break;
        }
    }
    let kept = lines[..cut].join("\n").trim().to_owned();
    if kept.is_empty() { text.trim().to_owned() } else { kept }
}

/// "On Mon, 30 Nov 2026 at 10:00, A <a@b> wrote:", Gmail's Dutch "Op ma 30 nov 2026 om 10:00
/// schreef A <a@b>:", Apple's "Op 30 nov. 2026, om 10:00 heeft A het volgende geschreven:" and
/// the German and French forms.
fn is_attribution(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    let opens = ["on ", "op ", "am ", "le "].iter().any(|p| l.starts_with(p));
    let says = ["wrote", "schreef", "geschreven", "schrieb", "a écrit"].iter().any(|w| l.contains(w));
    opens && says && l.ends_with(':') && l.len() < 300
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_history_and_signature_are_trimmed() {
        let gmail = "Dank, dat werkt.\n\nOn Mon, 30 Nov 2026 at 10:00, Klaver Helpdesk <helpdesk@klaver.example>\nwrote:\n\n> Beste Anna,\n> probeer dit.\n";
        assert_eq!(visible_part(gmail), "Dank, dat werkt.");
        let outlook = "Nog een vraag.\n\nMet vriendelijke groet,\nAnna\n\n________________________________\nVan: Klaver Helpdesk <helpdesk@klaver.example>\nVerzonden: maandag 30 november 2026 10:00\nAan: Anna\nOnderwerp: ...\n\nBeste Anna";
        assert_eq!(visible_part(outlook), "Nog een vraag.\n\nMet vriendelijke groet,\nAnna");
        assert_eq!(visible_part("Prima.\n-- \nAnna Jansen\nGemeente Ede"), "Prima.");
        assert_eq!(visible_part("Prima.\n\nVerzonden vanaf mijn iPhone"), "Prima.");
        assert_eq!(visible_part("> alleen citaat"), "> alleen citaat", "nothing left: keep it all");
        let inline = "> vraag 1\nantwoord 1\n> vraag 2\nantwoord 2";
        assert_eq!(visible_part(inline), inline, "inline answers stay");
    }

    #[test]
    fn machines_are_recognised() {
        let own = vec!["helpdesk@klaver.example".to_owned()];
        let mail = |headers: &str| format!("From: Anna <anna@ede.example>\r\n{headers}Subject: Hallo\r\n\r\nTekst\r\n");
        let reason = |h: &str| parse(mail(h).as_bytes(), &own).expect("parse").machine;
        assert_eq!(reason(""), None);
        assert_eq!(reason("Auto-Submitted: no\r\n"), None);
        assert!(reason("Auto-Submitted: auto-replied\r\n").is_some());
        assert!(reason("Precedence: bulk\r\n").is_some());
        assert!(reason("List-Id: <news.ede.example>\r\n").is_some());
        assert!(reason("X-Loop: helpdesk@klaver.example\r\n").is_some());
        let own_mail = "From: helpdesk@klaver.example\r\nSubject: x\r\n\r\ny\r\n";
        assert!(parse(own_mail.as_bytes(), &own).expect("parse").machine.is_some());
    }
}
