//! Parse stage: raw RFC 5322 bytes → [`Mail`], the owned, flattened view the
//! rest of the pipeline works on.
//!
//! Parsing is lenient: whatever can be read is kept and every problem becomes
//! a [`Flag`], never an error. It is also bounded: mail-parser 0.11 recurses
//! once per nested multipart or attached message and can overflow the stack on
//! hostile mail, so [`parse`] counts the containers first and falls back to a
//! headers-only parse past a hard bound, and [`parse_off_thread`] runs it on a
//! dedicated thread with a large stack, away from the async workers.

use std::borrow::Cow;

use mail_parser::{
    Addr, Address, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Containers (multiparts and attached messages) beyond which the body is not
/// parsed at all: a bound on mail-parser's recursion, far above real mail.
const HARD_CONTAINER_BOUND: usize = 1000;
/// Leaf parts kept per mail; a real mail has a handful.
pub const MAX_PARTS: usize = 1000;
/// Stack for the parser thread; generous because nesting costs stack.
const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// A problem noticed while parsing. The mail is still recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// No header block could be found; everything is treated as body text.
    NoHeaders,
    NoFrom,
    NoMessageId,
    NoDate,
    /// A part's charset or transfer encoding could not be decoded cleanly.
    EncodingProblem,
    /// Nested deeper than `limits.max_nesting_depth`; inner parts were skipped.
    NestingLimit,
    /// More parts than [`MAX_PARTS`]; the rest were skipped.
    TooManyParts,
    /// No readable text in the body.
    EmptyBody,
}

/// An address as it appeared in a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

/// How a part's body is encoded in the raw mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferEncoding {
    Plain,
    QuotedPrintable,
    Base64,
}

/// Where a part's encoded body sits in the raw mail, so that a redacted copy
/// can replace exactly it. For parts of a forwarded mail that was itself
/// encoded, this is the span of the whole forwarded mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawSpan {
    pub start: usize,
    pub end: usize,
    pub encoding: TransferEncoding,
}

/// One leaf part: an attachment, an inline file, or a part of a forwarded mail.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    /// Where it sits: "2", "3.1" (first part inside the mail attached as part 3).
    pub location: String,
    pub name: Option<String>,
    pub content_type: String,
    #[serde(skip)]
    pub data: Vec<u8>,
    #[serde(skip)]
    pub span: Option<RawSpan>,
}

/// The loop-relevant headers, kept verbatim (lowercased names).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AutoHeaders {
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub list_id: Option<String>,
    pub x_auto_response_suppress: Option<String>,
    /// `Some("")` for an empty `Return-Path: <>` (a bounce).
    pub return_path: Option<String>,
    /// Other markers bulk senders and robots put on their mail.
    pub other: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    pub message_id: Option<String>,
    pub subject: String,
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// The Date header, RFC 3339.
    pub date: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub auto: AutoHeaders,
    /// Plain text of the body (HTML converted to text when that is all there is).
    pub text: String,
    /// Every text and HTML body part, for inspection: a key may hide in an
    /// inline part after an attachment, or only in the HTML alternative.
    #[serde(skip)]
    pub all_text: String,
    pub parts: Vec<Part>,
    pub flags: Vec<Flag>,
    /// SHA-256 over the mail less the trace headers servers add on delivery,
    /// so the same mail delivered to two mailboxes hashes the same.
    pub content_hash: String,
    pub size: usize,
    /// Spans of the body text parts (not in `parts`).
    #[serde(skip)]
    pub body_spans: Vec<RawSpan>,
}

impl Mail {
    /// Where an automatic answer goes: Reply-To, else From.
    pub fn reply_address(&self) -> Option<&Mailbox> {
        self.reply_to.as_ref().or(self.from.as_ref())
    }

    /// A mail with nothing read yet but its hash and size.
    fn empty(content_hash: String, size: usize) -> Mail {
        Mail {
            message_id: None,
            subject: String::new(),
            from: None,
            reply_to: None,
            to: Vec::new(),
            cc: Vec::new(),
            date: None,
            in_reply_to: Vec::new(),
            references: Vec::new(),
            auto: AutoHeaders::default(),
            text: String::new(),
            parts: Vec::new(),
            flags: Vec::new(),
            content_hash,
            size,
            body_spans: Vec::new(),
            all_text: String::new(),
        }
    }

    fn flag(&mut self, f: Flag) {
        if !self.flags.contains(&f) {
            self.flags.push(f);
        }
    }
}

/// Runs `f` — parsing and the other pure, CPU-bound stages — on a dedicated
/// thread with a large stack, away from the async workers; a panic in it
/// becomes an error.
pub async fn on_parser_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("parse".into())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(result);
        })?;
    match rx.await? {
        Ok(v) => Ok(v),
        // A spent budget stops the work by unwinding; it is not a fault.
        Err(panic) => match panic.downcast::<crate::budget::Spent>() {
            Ok(spent) => Err(anyhow::Error::new(*spent)),
            Err(panic) => anyhow::bail!(
                "the mail parser panicked: {}",
                crate::util::panic_message(panic.as_ref())
            ),
        },
    }
}

/// Parses `raw` into a [`Mail`], never failing: problems become flags.
pub fn parse(raw: &[u8], max_depth: usize) -> Mail {
    parse_inner(raw, max_depth, false)
}

/// Only the headers: for mail too large to be read whole.
pub fn parse_headers_only(raw: &[u8]) -> Mail {
    parse_inner(raw, 0, true)
}

/// The steps of a parse: the content hash, the message (headers only when
/// asked or when the mail nests past [`HARD_CONTAINER_BOUND`]), the
/// headers, the body text, the parts.
fn parse_inner(raw: &[u8], max_depth: usize, headers_only: bool) -> Mail {
    let content_hash = content_hash(raw);
    let too_many_containers = !headers_only && count_containers(raw) > HARD_CONTAINER_BOUND;
    let skip_body = headers_only || too_many_containers;
    let parsed = read_message(raw, skip_body);

    let mut mail = Mail::empty(content_hash, raw.len());
    if too_many_containers {
        mail.flag(Flag::NestingLimit);
    }
    let Some(msg) = parsed else {
        return headerless(mail, raw);
    };
    read_headers(&mut mail, &msg);
    if !skip_body {
        mail.text = body_text(&msg);
        mail.all_text = all_text(&msg, &mail.text);
        walk_parts(&mut mail, &msg, raw, max_depth);
    }
    if mail.text.trim().is_empty() && !headers_only {
        mail.flag(Flag::EmptyBody);
    }
    mail.flags.sort();
    mail
}

/// The parsed message; only its headers when the body is skipped.
fn read_message(raw: &[u8], skip_body: bool) -> Option<Message<'_>> {
    let parser = MessageParser::default();
    if skip_body {
        // Headers end at the first empty line; no need to hand over the rest.
        let (head, _) = split_head(raw);
        parser.parse_headers(&raw[..(head.len() + 4).min(raw.len())])
    } else {
        parser.parse(raw)
    }
}

/// A mail without a header block: all of it is body text, and the headers
/// every mail has are missing.
fn headerless(mut mail: Mail, raw: &[u8]) -> Mail {
    mail.flag(Flag::NoHeaders);
    mail.text = String::from_utf8_lossy(raw).into_owned();
    mail.flag(Flag::NoFrom);
    mail.flag(Flag::NoMessageId);
    mail
}

/// The headers the pipeline uses, and a flag for each one every mail
/// should have but this one lacks.
fn read_headers(mail: &mut Mail, msg: &Message<'_>) {
    mail.message_id = msg
        .message_id()
        .map(|id| format!("<{}>", id.trim_matches(['<', '>'])));
    mail.subject = clean_line(msg.subject().unwrap_or_default());
    mail.from = msg.from().and_then(first_mailbox);
    mail.reply_to = msg.reply_to().and_then(first_mailbox);
    mail.to = msg.to().map(all_mailboxes).unwrap_or_default();
    mail.cc = msg.cc().map(all_mailboxes).unwrap_or_default();
    mail.date = msg.date().map(|d| d.to_rfc3339());
    mail.in_reply_to = ids(msg.in_reply_to());
    mail.references = ids(msg.references());
    mail.auto = auto_headers(msg);

    if mail.from.is_none() {
        mail.flag(Flag::NoFrom);
    }
    if mail.message_id.is_none() {
        mail.flag(Flag::NoMessageId);
    }
    if mail.date.is_none() {
        mail.flag(Flag::NoDate);
    }
}

/// The body as plain text: the first text body, or the first HTML body as
/// text when that is all there is.
fn body_text(msg: &Message<'_>) -> String {
    // HTML-only mail (Outlook): our own conversion keeps table cells apart.
    let html_only = msg.text_body.first().is_some_and(|id| {
        msg.parts
            .get(*id as usize)
            .is_some_and(|p| matches!(p.body, PartType::Html(_)))
    });
    if html_only {
        msg.body_html(0).map(|h| html_lines(&h)).unwrap_or_default()
    } else {
        msg.body_text(0).map(Cow::into_owned).unwrap_or_default()
    }
}

/// Every text and HTML body part as text, for inspection: a key may hide in
/// an inline part after an attachment, or only in the HTML alternative.
/// Empty when the one plain body `text` is all there is.
fn all_text(msg: &Message<'_>, text: &str) -> String {
    let mut all = Vec::new();
    for i in 0..msg.text_body_count().min(MAX_PARTS) {
        all.extend(msg.body_text(i).map(Cow::into_owned));
    }
    for (i, id) in msg.html_body.iter().enumerate().take(MAX_PARTS) {
        // A plain-text part stands in the HTML list too, rendered as
        // HTML: its text is in already, and it may be megabytes.
        let plain = msg.text_body.contains(id)
            && msg
                .parts
                .get(*id as usize)
                .is_some_and(|p| matches!(p.body, PartType::Text(_)));
        if !plain {
            all.extend(msg.body_html(i).map(|h| html_lines(&h)));
        }
    }
    // One plain body is `text` already; `inspect` reads that then.
    if all.len() == 1 && all.first().map(String::as_str) == Some(text) {
        String::new()
    } else {
        all.join("\n")
    }
}

/// The leaf parts, the spans of the body text parts, and what the walk
/// flagged (nesting, part count, encoding).
fn walk_parts(mail: &mut Mail, msg: &Message<'_>, raw: &[u8], max_depth: usize) {
    let mut walker = Walker {
        max_depth,
        root: raw,
        parts: Vec::new(),
        body_spans: Vec::new(),
        flags: Vec::new(),
    };
    walker.message(msg, "", 0, None);
    mail.parts = walker.parts;
    mail.body_spans = walker.body_spans;
    for f in walker.flags {
        mail.flag(f);
    }
}

struct Walker<'r> {
    max_depth: usize,
    /// The raw mail, to turn part offsets into spans of it.
    root: &'r [u8],
    parts: Vec<Part>,
    body_spans: Vec<RawSpan>,
    flags: Vec<Flag>,
}

impl Walker<'_> {
    /// Where `msg`'s bytes start in the raw mail, when they are part of it
    /// (not when the parser decoded them from an encoded attachment).
    fn base_of(&self, msg: &Message<'_>) -> Option<usize> {
        let root = self.root.as_ptr() as usize;
        let own = msg.raw_message().as_ptr() as usize;
        (own >= root && own + msg.raw_message().len() <= root + self.root.len()).then(|| own - root)
    }

    fn span(
        &self,
        part: &MessagePart<'_>,
        base: Option<usize>,
        enclosing: Option<RawSpan>,
    ) -> Option<RawSpan> {
        match base {
            Some(b) => Some(RawSpan {
                start: b + part.offset_body as usize,
                end: b + part.offset_end as usize,
                encoding: match part.encoding {
                    mail_parser::Encoding::Base64 => TransferEncoding::Base64,
                    mail_parser::Encoding::QuotedPrintable => TransferEncoding::QuotedPrintable,
                    mail_parser::Encoding::None => TransferEncoding::Plain,
                },
            })
            .filter(|s| s.start <= s.end && s.end <= self.root.len()),
            None => enclosing,
        }
    }

    /// Collects the leaf parts of `msg` other than its own body text.
    fn message(
        &mut self,
        msg: &Message<'_>,
        prefix: &str,
        depth: usize,
        enclosing: Option<RawSpan>,
    ) {
        if depth > self.max_depth {
            self.flags.push(Flag::NestingLimit);
            return;
        }
        let body_ids: Vec<u32> = if prefix.is_empty() {
            msg.text_body
                .iter()
                .chain(&msg.html_body)
                .copied()
                .collect()
        } else {
            Vec::new()
        };
        let mut leaf_no = 0;
        let at = At {
            prefix,
            base: self.base_of(msg),
            enclosing,
            body_ids: &body_ids,
        };
        self.part(msg, 0, &at, depth, &mut leaf_no);
    }

    fn part(&mut self, msg: &Message<'_>, id: u32, at: &At<'_>, depth: usize, leaf_no: &mut usize) {
        crate::budget::checkpoint();
        let Some(part) = msg.parts.get(id as usize) else {
            return;
        };
        if self.parts.len() >= MAX_PARTS {
            self.flags.push(Flag::TooManyParts);
            return;
        }
        if part.is_encoding_problem {
            self.flags.push(Flag::EncodingProblem);
        }
        match &part.body {
            PartType::Multipart(children) => {
                if depth > self.max_depth {
                    self.flags.push(Flag::NestingLimit);
                    return;
                }
                for child in children {
                    self.part(msg, *child, at, depth + 1, leaf_no);
                }
            }
            PartType::Message(inner) => {
                *leaf_no += 1;
                let location = join(at.prefix, *leaf_no);
                let span = self.span(part, at.base, at.enclosing);
                // Keep the forwarded mail itself too: inspect may look inside it.
                self.parts
                    .push(leaf(part, &location, inner.raw_message(), span));
                self.message(inner, &location, depth + 1, span);
            }
            PartType::Text(_)
            | PartType::Html(_)
            | PartType::Binary(_)
            | PartType::InlineBinary(_) => {
                *leaf_no += 1;
                let span = self.span(part, at.base, at.enclosing);
                let is_body = at.body_ids.contains(&id) && part.attachment_name().is_none();
                if is_body {
                    self.body_spans.extend(span);
                    return;
                }
                let location = join(at.prefix, *leaf_no);
                self.parts
                    .push(leaf(part, &location, part.contents(), span));
            }
        }
    }
}

/// Where the walk is: the location prefix, the message's offset in the raw
/// mail, the span of the encoded attachment it came from, its body parts.
struct At<'a> {
    prefix: &'a str,
    base: Option<usize>,
    enclosing: Option<RawSpan>,
    body_ids: &'a [u32],
}

/// HTML as lines of text: tags that break lines become newlines, table
/// cells are separated by " | " (so Outlook's "Label | value" tables keep
/// their shape), other tags are dropped, entities decoded.
pub fn html_lines(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let (mut cells, mut in_cell) = (0usize, false);
    // Each step moves `rest` forward past what it read: one pass in all.
    while let Some((text, after_open)) = rest.split_once('<') {
        out.push_str(text);
        let Some((raw_tag, after)) = after_open.split_once('>') else {
            out.push('<');
            rest = after_open;
            break;
        };
        let closing = raw_tag.starts_with('/');
        let name: String = raw_tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        rest = after;
        match name.as_str() {
            "tr" | "table" => {
                if !(closing && name == "tr") {
                    out.push('\n');
                }
                cells = 0;
                in_cell = false;
            }
            // Outlook wraps every cell's text in <p>: a cell stays one value.
            "br" | "p" | "div" | "li" | "pre" | "h1" | "h2" | "h3" | "h4" if in_cell => {
                out.push(' ')
            }
            "br" | "p" | "div" | "li" | "pre" | "h1" | "h2" | "h3" | "h4" => out.push('\n'),
            "td" | "th" if closing => in_cell = false,
            "td" | "th" => {
                if cells > 0 || (!out.ends_with('\n') && !out.is_empty()) {
                    out.push_str(" | ");
                }
                cells += 1;
                in_cell = true;
            }
            "style" | "script" | "head" if !closing => {
                // Their content is not text.
                let end = format!("</{name}");
                rest = find_ignore_ascii_case(after, &end)
                    .and_then(|e| after.get(e..))
                    .unwrap_or_default();
            }
            _ => {}
        }
    }
    out.push_str(rest);
    // Every named and numeric entity, in one pass (Outlook writes ă as
    // &#259;, Gmail « as &laquo;); a no-break space is a space.
    let text = html_escape::decode_html_entities(&out).replace('\u{a0}', " ");
    // Whitespace inside a line is not layout in HTML.
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Byte offset of the ASCII `needle` in `hay`, ignoring ASCII case, in one
/// pass (no lowercased copy of the rest of the text per search).
fn find_ignore_ascii_case(hay: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    if needle.is_empty() {
        return Some(0);
    }
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn join(prefix: &str, n: usize) -> String {
    if prefix.is_empty() {
        n.to_string()
    } else {
        format!("{prefix}.{n}")
    }
}

fn leaf(part: &MessagePart<'_>, location: &str, data: &[u8], span: Option<RawSpan>) -> Part {
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        })
        .unwrap_or_else(|| "text/plain".into());
    Part {
        location: location.to_string(),
        name: part.attachment_name().map(clean_line),
        content_type,
        data: data.to_vec(),
        span,
    }
}

fn first_mailbox(a: &Address<'_>) -> Option<Mailbox> {
    a.first().and_then(to_mailbox)
}

fn all_mailboxes(a: &Address<'_>) -> Vec<Mailbox> {
    a.iter().filter_map(to_mailbox).collect()
}

fn to_mailbox(a: &Addr<'_>) -> Option<Mailbox> {
    let address = a.address()?.trim().to_string();
    if address.is_empty() {
        return None;
    }
    Some(Mailbox {
        name: a.name().map(clean_line).filter(|n| !n.is_empty()),
        address,
    })
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
        .map(|id| format!("<{}>", id.trim().trim_matches(['<', '>'])))
        .filter(|id| id.len() > 2)
        .collect()
}

/// Single-line text: no CR/LF or other control characters survive, so a value
/// can never inject a header into a reply; nor do bidirectional controls, so
/// `factura\u{202e}txt.exe` cannot show as `factura` + `exe.txt` wherever a
/// name or subject is displayed.
pub fn clean_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || is_bidi_control(c) {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// Characters that reorder the display of the text around them (embeddings,
/// overrides, isolates and the directional marks).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

fn auto_headers(msg: &Message<'_>) -> AutoHeaders {
    let mut auto = AutoHeaders::default();
    for (name, value) in msg.headers_raw() {
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "auto-submitted" => auto.auto_submitted = Some(value.to_string()),
            "precedence" => auto.precedence = Some(value.to_string()),
            "list-id" => auto.list_id = Some(value.to_string()),
            "x-auto-response-suppress" => auto.x_auto_response_suppress = Some(value.to_string()),
            "return-path" => {
                auto.return_path = Some(value.trim_matches(['<', '>', ' ']).to_string());
            }
            n @ ("list-unsubscribe" | "x-autoreply" | "x-autorespond" | "x-loop"
            | "feedback-id" | "x-mailer-daemon") => auto.other.push(n.to_string()),
            _ => {}
        }
    }
    auto
}

/// Headers that servers add on delivery; left out of the content hash.
const TRACE_HEADERS: &[&str] = &[
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "envelope-to",
    "x-envelope-to",
    "authentication-results",
    "received-spf",
    "dkim-filter",
];

fn is_trace(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    TRACE_HEADERS.contains(&n.as_str())
        || n.starts_with("arc-")
        || n.starts_with("x-spam")
        || n.starts_with("x-virus")
        || n.starts_with("x-ms-exchange-organization")
}

/// SHA-256 (hex) of the mail without trace headers, line endings normalised.
pub fn content_hash(raw: &[u8]) -> String {
    let mut h = Sha256::new();
    let (head, body) = split_head(raw);
    let mut skipping = false;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            let name = line.split(|&b| b == b':').next().unwrap_or_default();
            skipping = is_trace(&String::from_utf8_lossy(name));
        }
        if !skipping {
            h.update(line);
            h.update(b"\n");
        }
    }
    h.update(b"\n");
    for line in body.split(|&b| b == b'\n') {
        h.update(line.strip_suffix(b"\r").unwrap_or(line));
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The header block of a raw mail, with the empty line that ends it.
pub fn header_block(raw: &[u8]) -> &[u8] {
    let (head, _) = split_head(raw);
    let end = (head.len() + 4).min(raw.len());
    // Keep the separator exactly as it was (CRLF CRLF or LF LF).
    let sep = if raw.get(head.len()..head.len() + 2) == Some(b"\n\n") {
        2
    } else {
        4
    };
    &raw[..(head.len() + sep).min(end)]
}

fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    let crlf = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4));
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => {
            let (p, n) = if a.0 < b.0 { a } else { b };
            (&raw[..p], &raw[p + n..])
        }
        (Some((p, n)), None) | (None, Some((p, n))) => (&raw[..p], &raw[p + n..]),
        (None, None) => (raw, &[]),
    }
}

/// Upper bound on the number of multipart/message containers: each one needs
/// a Content-Type header naming it, so counting those bounds the nesting.
/// Only header lines count, so body text that merely mentions the words
/// cannot make a mail skip its body.
fn count_containers(raw: &[u8]) -> usize {
    raw.split(|b| *b == b'\n')
        .filter(|line| {
            let line = line.trim_ascii_start();
            line.len() > 13 && line[..13].eq_ignore_ascii_case(b"content-type:") && {
                let value = line[13..].trim_ascii_start();
                let lower: Vec<u8> = value.iter().take(16).map(u8::to_ascii_lowercase).collect();
                lower.starts_with(b"multipart/") || lower.starts_with(b"message/")
            }
        })
        .count()
}

#[cfg(test)]
mod tests;
