//! Key material anywhere in a mail's raw bytes, whatever its MIME structure
//! says.
//!
//! The structured inspection sees only the parts the parser reached: a key
//! below the nesting or part-count limit, in a part whose boundary is
//! broken, or in a mail the parser gave up on, escapes it. Before anything
//! of a mail is written anywhere (database, spool), this scan looks at the
//! raw bytes three ways — as text, quoted-printable decoded, and every run
//! of base64 lines decoded and examined like an attachment — so a key is
//! caught however it is wrapped. Every step is linear in the mail's size.

use super::text::examine_str;
use super::{FileReport, Settings, archive, examine};

/// Shortest base64 run worth decoding: no key or key container is smaller.
const MIN_RUN_CHARS: usize = 64;

/// The keys found in `raw` (as [`FileReport::keys`]) and the problems met,
/// `archive_*` ones included: an archive that could not be opened fully
/// leaves the scan incomplete, as in the structured inspection.
pub fn scan(raw: &[u8], settings: &Settings) -> FileReport {
    scan_except(raw, settings, &[])
}

/// [`scan`], leaving out the base64 runs that decode to exactly the bytes
/// of one of `examined`: the files the structured inspection of the same
/// mail examined already. The same bytes through the same examination give
/// the same verdict, so each attachment is opened once; a run that decodes
/// to anything else (a part the parser did not reach, or read differently)
/// is examined here.
pub fn scan_except(raw: &[u8], settings: &Settings, examined: &[&[u8]]) -> FileReport {
    let mut report = FileReport::new();
    let text = String::from_utf8_lossy(raw);
    examine_str("mail", &text, settings, &mut report);
    if has_quoted_printable(raw) {
        let decoded = quoted_printable(raw);
        examine_str(
            "mail (quoted-printable)",
            &String::from_utf8_lossy(&decoded),
            settings,
            &mut report,
        );
    }
    let mut budget = archive::Budget::new(&settings.archive);
    for run in base64_runs(raw) {
        crate::budget::checkpoint();
        let decoded = decode_base64(run);
        let data = not_examined(&decoded, examined);
        if data.len() * 4 / 3 >= MIN_RUN_CHARS {
            examine("mail (base64)", data, settings, 0, &mut budget, &mut report);
        }
    }
    report
}

/// What of a decoded run is left once the longest of `examined` it opens
/// with is taken off: a part's base64 lines may run on into lines that
/// only look like base64 (a word, a boundary the sender did not open with
/// `--`), and what those add is judged like a run of its own.
fn not_examined<'d>(decoded: &'d [u8], examined: &[&[u8]]) -> &'d [u8] {
    let longest = examined
        .iter()
        .filter(|e| !e.is_empty() && decoded.starts_with(e))
        .map(|e| e.len())
        .max()
        .unwrap_or(0);
    decoded.get(longest..).unwrap_or_default()
}

fn has_quoted_printable(raw: &[u8]) -> bool {
    // memmem finds the rare letter pair fast; the full, case-blind
    // comparison runs only there.
    const NEEDLE: &[u8] = b"quoted-printable";
    [&b"-printable"[..], b"-Printable", b"-PRINTABLE"]
        .into_iter()
        .flat_map(|tail| memchr::memmem::find_iter(raw, tail))
        .any(|at| {
            at.checked_sub(6)
                .and_then(|start| raw.get(start..start + NEEDLE.len()))
                .is_some_and(|w| w.eq_ignore_ascii_case(NEEDLE))
        })
}

/// Lenient quoted-printable decoding of the whole mail: soft line breaks
/// joined, `=XX` decoded, anything else kept as it is.
fn quoted_printable(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        match (raw.get(i + 1), raw.get(i + 2)) {
            (Some(b'\r'), Some(b'\n')) => i += 3,
            (Some(b'\n'), _) => i += 2,
            (Some(&h), Some(&l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                out.push(hex(h) << 4 | hex(l));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b.to_ascii_uppercase().wrapping_sub(b'A').wrapping_add(10),
    }
}

fn is_base64_byte(b: u8) -> bool {
    DECODE[usize::from(b)] != SKIP
}

/// Maximal runs of consecutive lines made only of base64 characters (the
/// URL-safe alphabet too), each given as the bytes from its first line to
/// its last; a line opening with `--` starts a new run.
fn base64_runs(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut runs = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut chars = 0;
    let mut pos = 0;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        let body = line.trim_ascii();
        let is_b64 = !body.is_empty() && body.iter().all(|b| is_base64_byte(*b));
        // A MIME delimiter (`--` and a boundary) is made of base64
        // characters too; it ends the run, or a part's bytes would be
        // read with the boundary's stuck on and a DER key in them missed.
        let delimiter = body.starts_with(b"--");
        if (!is_b64 || delimiter)
            && let Some(s) = start.take()
        {
            if chars >= MIN_RUN_CHARS {
                runs.push(s..end);
            }
            chars = 0;
        }
        if is_b64 {
            start.get_or_insert(pos);
            end = pos + line.len();
            chars += body.len();
        }
        pos += line.len();
    }
    if let Some(s) = start
        && chars >= MIN_RUN_CHARS
    {
        runs.push(s..end);
    }
    runs.into_iter().filter_map(move |r| raw.get(r))
}

/// Sextet value of each byte; [`PAD`] for `=`, [`SKIP`] for the rest.
const DECODE: [u8; 256] = {
    let mut t = [SKIP; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t[b'=' as usize] = PAD;
    t
};
const PAD: u8 = 64;
const SKIP: u8 = 255;

/// Decodes base64 leniently: whitespace skipped, both alphabets, and `=`
/// ending one encoded object where another may follow (two attachments
/// back to back, or a PEM body with padding mid-run).
fn decode_base64(run: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(run.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut n = 0;
    for &b in run {
        match DECODE[usize::from(b)] {
            SKIP => {}
            PAD => {
                // Padding: flush the partial group, start afresh.
                match n {
                    2 => out.push((acc >> 4) as u8),
                    3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
                    _ => {}
                }
                acc = 0;
                n = 0;
            }
            v => {
                acc = (acc << 6) | u32::from(v);
                n += 1;
                if n == 4 {
                    out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
                    acc = 0;
                    n = 0;
                }
            }
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    /// A PKCS#8 Ed25519 private key (RFC 8410 test vector).
    const ED25519_DER: &str = "MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC";

    fn settings() -> Settings {
        Settings::at(chrono::Utc::now())
    }

    fn wrapped(b64: &str) -> String {
        b64.as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    #[test]
    fn base64_decoding_is_lenient_and_exact() {
        let data: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let b64 = wrapped(&STANDARD.encode(&data));
        assert_eq!(decode_base64(b64.as_bytes()), data);
        // Two objects back to back, padding between them.
        let two = format!("{}{}", STANDARD.encode(b"ab"), STANDARD.encode(b"cdef"));
        assert_eq!(decode_base64(two.as_bytes()), b"abcdef");
    }

    #[test]
    fn quoted_printable_joins_soft_breaks() {
        assert_eq!(
            quoted_printable(b"-----BEGIN PRIVATE KEY=\r\n-----\r\nMC4=3D\r\na=b"),
            b"-----BEGIN PRIVATE KEY-----\r\nMC4=\r\na=b"
        );
    }

    #[test]
    fn a_der_key_in_base64_is_found_whatever_the_mime_structure() {
        // A part whose boundary never appears: the parser cannot reach it.
        let mail = format!(
            "From: a@b.md\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n\
             --y\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            wrapped(ED25519_DER)
        );
        let r = scan(mail.as_bytes(), &settings());
        assert!(r.contains_private_key, "{:?}", r.findings);
    }

    /// A run that decodes to bytes the inspection examined is not examined
    /// again; one that decodes to anything else still is.
    #[test]
    fn runs_the_inspection_examined_are_not_examined_again() {
        let mail = format!(
            "From: a@b.md\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            wrapped(ED25519_DER)
        );
        let key = STANDARD.decode(ED25519_DER).unwrap();
        let examined: &[&[u8]] = &[b"another file", &key];
        let r = scan_except(mail.as_bytes(), &settings(), examined);
        assert!(!r.contains_private_key, "{:?}", r.findings);
        // Bytes the run does not open with leave it to be examined.
        let near: &[&[u8]] = &[&key[1..], b"another file"];
        let r = scan_except(mail.as_bytes(), &settings(), near);
        assert!(r.contains_private_key);
    }

    /// A part's run goes on into the boundary line after it; what the
    /// parser decoded is still recognised, and a key after it is not lost.
    #[test]
    fn a_parts_run_is_recognised_through_the_boundary_after_it() {
        let part = |b64: &str| {
            format!(
                "--bnd42\r\nContent-Type: application/octet-stream; name=k.der\r\n\
                 Content-Disposition: attachment; filename=k.der\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
            )
        };
        let key = STANDARD.decode(ED25519_DER).unwrap();
        let mail = format!(
            "From: a@b.md\r\nContent-Type: multipart/mixed; boundary=bnd42\r\n\r\n{}--bnd42--\r\n",
            part(&wrapped(ED25519_DER))
        );
        let parsed = crate::parse::parse(mail.as_bytes(), 8);
        let examined = crate::inspect::examined_files(&parsed);
        assert_eq!(examined, [key.as_slice()]);
        assert!(scan(mail.as_bytes(), &settings()).contains_private_key);
        let r = scan_except(mail.as_bytes(), &settings(), &examined);
        assert!(!r.contains_private_key, "{:?}", r.findings);
        // The same part with a key pasted straight after it in the run.
        let tail = wrapped(ED25519_DER);
        let mail = mail.replacen("\r\n--bnd42--", &format!("\r\n{tail}\r\n--bnd42--"), 1);
        let r = scan_except(mail.as_bytes(), &settings(), &[key.as_slice()]);
        assert!(r.contains_private_key);
    }

    #[test]
    fn a_pem_key_in_text_and_in_quoted_printable_is_found() {
        let pem =
            format!("-----BEGIN PRIVATE KEY-----\n{ED25519_DER}\n-----END PRIVATE KEY-----\n");
        assert!(scan(pem.as_bytes(), &settings()).contains_private_key);
        let qp = format!(
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n-----BEGIN PRIVATE=\r\n KEY-----\r\n{}=3D\r\n",
            ED25519_DER.trim_end_matches('=')
        );
        assert!(scan(qp.as_bytes(), &settings()).contains_private_key);
    }

    #[test]
    fn ordinary_mail_has_no_key() {
        let mail = "From: a@b.md\r\nSubject: Solicitare\r\n\r\nBună ziua,\r\nVă rugăm să ne conectați la MPass.\r\n";
        let r = scan(mail.as_bytes(), &settings());
        assert!(!r.contains_private_key);
        // A certificate is not a key.
        let cert_like = wrapped(&STANDARD.encode([0x30u8; 300]));
        assert!(!scan(cert_like.as_bytes(), &settings()).contains_private_key);
    }
}
