//! Small helpers shared by several stages: hashing, timestamps, safe cuts,
//! panic messages, the retry schedule, reading XML.

mod backoff;
mod xml;
pub use backoff::{Backoff, delay as backoff_delay};
pub use xml::{lenient_xml_reader, xml_attribute};

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The one timestamp format stored in the database: RFC 3339, UTC,
/// milliseconds, `Z`. Fixed width, so text order is time order.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The message a panic carried (`panic!("…")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Each item once, in the order first seen (for short lists: a code, a
/// name).
pub fn dedup<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    items.into_iter().fold(Vec::new(), |mut v, c| {
        if !v.contains(&c) {
            v.push(c);
        }
        v
    })
}

/// At most the first `max` bytes of `s`, cut back to a character boundary so
/// that Cyrillic or Romanian text is never split inside a letter.
pub fn prefix(s: &str, max: usize) -> &str {
    s.split_at(s.floor_char_boundary(max.min(s.len()))).0
}

/// A panic boundary for async work: a panic becomes an error of that work
/// (one mail, one outbox row, one scheduler tick) instead of ending the
/// task that runs it.
pub async fn guarded<T>(
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    use futures::FutureExt as _;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(anyhow::anyhow!(
            "panicked: {}",
            panic_message(panic.as_ref())
        )),
    }
}
