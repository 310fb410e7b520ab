//! Redaction: the copy of a mail that may be stored when it held a private
//! key. Each part with key material is replaced, in place in the raw bytes,
//! by a note naming the key's type and public-key fingerprint; PEM blocks
//! pasted into text keep the text around them. The caller checks the result
//! by inspecting it again and stores nothing at all if any key survived.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::inspect::{Inspection, pem};
use crate::parse::{Mail, RawSpan, TransferEncoding};

/// The redacted copy of `raw`.
pub fn redact(raw: &[u8], mail: &Mail, inspection: &Inspection) -> Vec<u8> {
    let mut edits: Vec<(RawSpan, String)> = Vec::new();
    for (part, a) in mail.parts.iter().zip(&inspection.attachments) {
        if a.report.contains_private_key
            && let Some(span) = part.span
        {
            let what: Vec<String> = a.report.keys.iter().map(|(_, k)| k.describe()).collect();
            edits.push((span, note(&what)));
        }
    }
    if inspection.body.contains_private_key {
        let what: Vec<String> = inspection
            .body
            .keys
            .iter()
            .map(|(_, k)| k.describe())
            .collect();
        for span in &mail.body_spans {
            edits.push((*span, note(&what)));
        }
    }
    // Outer spans first; a span inside one already replaced needs nothing.
    edits.sort_by_key(|(s, _)| (s.start, std::cmp::Reverse(s.end)));
    let mut kept: Vec<(RawSpan, String)> = Vec::new();
    for (span, n) in edits {
        if kept.last().is_none_or(|(k, _)| span.start >= k.end) {
            kept.push((span, n));
        }
    }
    let mut out = raw.to_vec();
    for (span, n) in kept.into_iter().rev() {
        let Some(body) = raw.get(span.start..span.end) else {
            continue;
        };
        let replacement = replace(body, span.encoding, &n);
        out.splice(span.start..span.end, replacement);
    }
    out
}

fn note(what: &[String]) -> String {
    format!(
        "[egov-intake: private key removed before storage: {}]",
        if what.is_empty() {
            "key".to_string()
        } else {
            what.join("; ")
        }
    )
}

/// The new encoded body of one part.
fn replace(body: &[u8], encoding: TransferEncoding, note: &str) -> Vec<u8> {
    match encoding {
        TransferEncoding::Base64 => {
            let compact: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            let decoded = STANDARD.decode(&compact).unwrap_or_default();
            let text =
                scrub_pem(&decoded, note).unwrap_or_else(|| format!("{note}\r\n").into_bytes());
            wrap_base64(&text)
        }
        TransferEncoding::Plain | TransferEncoding::QuotedPrintable => {
            scrub_pem(body, note).unwrap_or_else(|| format!("{note}\r\n").into_bytes())
        }
    }
}

/// `data` with every private-key PEM block replaced by `note`, if it had
/// any and nothing else that looks like a key remains; else None.
fn scrub_pem(data: &[u8], note: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut copied = 0;
    let mut from = 0;
    let mut changed = false;
    while let Some(at) = pem::find_begin(data, from) {
        // A marker never closed may hide a key: nothing is kept.
        let begin = pem::begin_at(data, at)?;
        let label = data.get(begin.label.clone())?;
        // A block inside another (a key pasted within a certificate block)
        // is still found: the search goes on just past this marker.
        from = begin.label.start;
        if !label.ends_with(b"PRIVATE KEY") {
            continue;
        }
        let end = pem::find_end(data, label, begin.label.start)?;
        out.extend_from_slice(data.get(copied..begin.start)?);
        out.extend_from_slice(note.as_bytes());
        copied = end.end;
        from = end.end;
        changed = true;
    }
    let rest = data.get(copied..).unwrap_or_default();
    out.extend_from_slice(rest);
    // Keys in other text forms (PuTTY, ssh.com, JWK) are replaced whole.
    let left = String::from_utf8_lossy(&out);
    let still = !crate::inspect::private_key::from_text(&left).is_empty()
        || left.contains("PRIVATE KEY-----");
    (changed && !still).then_some(out)
}

fn wrap_base64(data: &[u8]) -> Vec<u8> {
    let encoded = STANDARD.encode(data);
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / 38);
    for chunk in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{Settings, inspect};
    use crate::parse::parse;

    const KEY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";

    fn check(raw: &str, keeps: &[&str]) {
        let mail = parse(raw.as_bytes(), 10);
        let i = inspect(&mail, &Settings::at(chrono::Utc::now()));
        assert!(i.private_key_found, "fixture has no key");
        let red = redact(raw.as_bytes(), &mail, &i);
        let text = String::from_utf8_lossy(&red);
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains(&STANDARD.encode(KEY)[..40]), "{text}");
        let again = inspect(&parse(&red, 10), &Settings::at(chrono::Utc::now()));
        assert!(!again.private_key_found, "{text}");
        for k in keeps {
            assert!(
                text.contains(k) || parse(&red, 10).text.contains(k),
                "lost {k:?}: {text}"
            );
        }
    }

    #[test]
    fn pasted_key_is_cut_out_of_the_text() {
        check(
            &format!(
                "From: a@b.md\r\nSubject: Cheia\r\n\r\nBuna ziua,\r\n-----BEGIN PRIVATE KEY-----\r\n{KEY}\r\n-----END PRIVATE KEY-----\r\nMultumesc\r\n"
            ),
            &[
                "Buna ziua",
                "Multumesc",
                "Subject: Cheia",
                "private key removed",
            ],
        );
    }

    #[test]
    fn base64_attachment_is_replaced_by_a_note() {
        let pem = format!(
            "-----BEGIN RSA PRIVATE KEY-----\r\n{KEY}\r\n-----END RSA PRIVATE KEY-----\r\n"
        );
        let b64 = STANDARD.encode(&pem);
        check(
            &format!(
                "From: a@b.md\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_1\"\r\n\r\n\
                 --=_1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
                 --=_1\r\nContent-Type: application/octet-stream; name=\"k.cer\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--=_1--\r\n"
            ),
            &["See attached.", "k.cer"],
        );
    }

    #[test]
    fn key_in_a_base64_forwarded_mail_goes_with_it() {
        let inner = format!(
            "From: c@d.md\r\nSubject: inner\r\n\r\n-----BEGIN EC PRIVATE KEY-----\r\n{KEY}\r\n-----END EC PRIVATE KEY-----\r\n"
        );
        let b64 = STANDARD.encode(&inner);
        check(
            &format!(
                "From: a@b.md\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_2\"\r\n\r\n\
                 --=_2\r\nContent-Type: text/plain\r\n\r\nForwarding.\r\n\
                 --=_2\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--=_2--\r\n"
            ),
            &["Forwarding."],
        );
    }

    /// A key inside another block is cut out; a BEGIN marker never closed
    /// leaves nothing of the text.
    #[test]
    fn pem_scrubbing_finds_nested_and_refuses_unclosed_blocks() {
        let nested = b"a -----BEGIN CERTIFICATE----- -----BEGIN EC PRIVATE KEY-----\r\nMHcC\r\n-----END EC PRIVATE KEY----- -----END CERTIFICATE----- b";
        assert_eq!(
            scrub_pem(nested, "[x]").as_deref(),
            Some(&b"a -----BEGIN CERTIFICATE----- [x] -----END CERTIFICATE----- b"[..])
        );
        let unclosed =
            b"-----BEGIN PRIVATE KEY-----\nMC4\n-----END PRIVATE KEY-----\n-----BEGIN PRIV";
        assert!(scrub_pem(unclosed, "[x]").is_none());
        let no_end = b"-----BEGIN PRIVATE KEY-----\nMC4\n";
        assert!(scrub_pem(no_end, "[x]").is_none());
    }
}
