//! Reading Dovecot's Maildir++ store straight from disk.

use std::collections::HashMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Directory of `folder` below a user's Maildir++ root: INBOX is the root itself, any other
/// folder is `.<name>` with the name in IMAP's modified UTF-7 (hierarchy separator `.`), e.g.
/// "Processed" → `.Processed`, "Carantină" → `.Carantin&AQM-`.
pub(super) fn folder_dir(user_root: &Path, folder: &str) -> PathBuf {
    if folder.eq_ignore_ascii_case("INBOX") {
        user_root.to_path_buf()
    } else {
        user_root.join(format!(".{}", mutf7_encode(folder)))
    }
}

/// All messages in the Maildir at `dir` (new/ and cur/), oldest first. A missing folder is empty.
pub(super) fn read_messages(dir: &Path) -> Result<Vec<Vec<u8>>> {
    // Dovecot moves files from new/ to cur/ (and renames them when flags change) at any time;
    // when a listed file vanishes before it is read, list again.
    'retry: for _ in 0..100 {
        // base name (before ":2,flags") → (sort key, path); a file seen in both new/ and cur/
        // while being moved is counted once.
        let mut files: HashMap<String, (SortKey, PathBuf)> = HashMap::new();
        for sub in ["new", "cur"] {
            let entries = match fs::read_dir(dir.join(sub)) {
                Ok(entries) => entries,
                Err(err) if err.kind() == ErrorKind::NotFound => continue,
                Err(err) => {
                    return Err(err)
                        .with_context(|| format!("cannot list {}", dir.join(sub).display()));
                }
            };
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let base = name.split(':').next().unwrap_or(&name).to_owned();
                let key = sort_key(&name, &entry.path());
                files.insert(base, (key, entry.path()));
            }
        }
        let mut files: Vec<(SortKey, PathBuf)> = files.into_values().collect();
        files.sort();
        let mut messages = Vec::with_capacity(files.len());
        for (_, path) in files {
            match fs::read(&path) {
                Ok(bytes) => messages.push(bytes),
                Err(err) if err.kind() == ErrorKind::NotFound => continue 'retry,
                Err(err) => {
                    return Err(err).with_context(|| format!("cannot read {}", path.display()));
                }
            }
        }
        return Ok(messages);
    }
    bail!(
        "the Maildir {} kept changing while being read",
        dir.display()
    )
}

/// (seconds, microseconds, name): Dovecot names files `<secs>.M<usecs>P<pid>[...].<host>,S=...`.
/// Names in another format sort by modification time.
type SortKey = (u64, u64, String);

fn sort_key(name: &str, path: &Path) -> SortKey {
    let parsed = name.split_once('.').and_then(|(secs, rest)| {
        let secs = secs.parse::<u64>().ok()?;
        let usecs = rest
            .strip_prefix('M')
            .map(|r| {
                r.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|digits| digits.parse::<u64>().ok())
            .unwrap_or(0);
        Some((secs, usecs))
    });
    let (secs, usecs) = parsed.unwrap_or_else(|| {
        fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| (d.as_secs(), u64::from(d.subsec_micros())))
            .unwrap_or((0, 0))
    });
    (secs, usecs, name.to_owned())
}

/// IMAP modified UTF-7 (RFC 3501 5.1.3), as Dovecot uses for Maildir++ folder names.
fn mutf7_encode(name: &str) -> String {
    fn flush(pending: &mut Vec<u16>, out: &mut String) {
        if pending.is_empty() {
            return;
        }
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
        let bytes: Vec<u8> = pending.iter().flat_map(|unit| unit.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1; // 1 byte → 2 chars, 2 → 3, 3 → 4; no padding
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out.push('-');
        pending.clear();
    }
    let mut out = String::new();
    let mut pending = Vec::new();
    for ch in name.chars() {
        if (' '..='~').contains(&ch) {
            flush(&mut pending, &mut out);
            if ch == '&' {
                out.push_str("&-");
            } else {
                out.push(ch);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(ch.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}
