//! How long the whole pure path takes per mail (`cargo bench --bench
//! pipeline`): raw bytes through the daemon's own analysis (raw key scan,
//! parse, inspect, redact when needed, understand), then threading, the
//! loop guard and the decision, with a fixed clock and an empty history in
//! place of the database — exactly what the `pipeline` fuzz target runs
//! ([`egov_intake::fuzzing::pipeline`], with `examples/local.toml` and the
//! shipped rules loaded once before timing). No database, spool or outbox
//! is touched, and the memory-counting allocator the binary installs is not.
//!
//! Inputs: every mail in `examples/mail/*.eml` (each, then the mean over
//! them), and a synthetic mail carrying a 1 MiB PDF-like attachment (a page
//! of text and an incompressible image stream), made in memory; nothing is
//! committed. Beside each, in the same run, a baseline doing the least the
//! same bytes need: a plain client parsing them with
//! `mail_parser::MessageParser::default()` and touching every part's decoded
//! contents, so the ratio of the daemon's work to a bare parse is visible.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use egov_intake::fuzzing;
use mail_parser::MessageParser;

/// Runs `f` for about a second; the time per run.
fn per_run(mut f: impl FnMut()) -> Duration {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        n += 1;
    }
    start.elapsed() / n
}

/// What a plain client does at the least: parse, and read every part.
fn plain_parse(raw: &[u8]) {
    let message = MessageParser::default()
        .parse(std::hint::black_box(raw))
        .expect("the bench mails parse");
    let mut bytes = 0usize;
    for part in &message.parts {
        bytes += std::hint::black_box(part.contents()).len();
    }
    std::hint::black_box(bytes);
}

/// Times the pipeline and the baseline on one mail and prints both; the
/// pair of times per mail.
fn measure(name: &str, raw: &[u8]) -> (Duration, Duration) {
    let pipeline = per_run(|| fuzzing::pipeline(std::hint::black_box(raw)));
    let baseline = per_run(|| plain_parse(raw));
    print(name, raw.len(), pipeline, baseline);
    (pipeline, baseline)
}

fn print(name: &str, bytes: usize, pipeline: Duration, baseline: Duration) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "pipeline {name:<34} {:>9.1} µs/mail ({:>7.0} mails/s); baseline parse {:>8.1} µs/mail ({:>7.0} mails/s); ratio {:>5.1}x  ({bytes} bytes)",
        us(pipeline),
        1.0 / pipeline.as_secs_f64(),
        us(baseline),
        1.0 / baseline.as_secs_f64(),
        pipeline.as_secs_f64() / baseline.as_secs_f64(),
    );
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mail");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/mail is readable")
        .map(|e| e.expect("examples/mail entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no example mails in {}", dir.display());

    let (mut pipeline, mut baseline, mut bytes) = (Duration::ZERO, Duration::ZERO, 0);
    for path in &paths {
        let raw = std::fs::read(path).expect("example mail is readable");
        let name = path.file_name().unwrap().to_string_lossy();
        let (p, b) = measure(&name, &raw);
        pipeline += p;
        baseline += b;
        bytes += raw.len();
    }
    let n = paths.len() as u32;
    print(
        &format!("mean of {n} example mails"),
        bytes / paths.len(),
        pipeline / n,
        baseline / n,
    );

    measure("synthetic, 1 MiB PDF attachment", &pdf_mail());
}

/// A request with a 1 MiB PDF-like attachment: one page of text, and an
/// image of incompressible bytes (as a scan would be) filling the rest.
fn pdf_mail() -> Vec<u8> {
    const SIZE: usize = 1 << 20;
    let text = b"BT /F1 12 Tf 72 720 Td (Cerere de integrare MPass, IDNO 1003600012345) Tj ET";
    let head = format!(
        "%PDF-1.7\n\
         1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
         2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
         3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >> endobj\n\
         4 0 obj << /Length {} >>\nstream\n{}\nendstream\nendobj\n\
         5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n",
        text.len(),
        std::str::from_utf8(text).unwrap(),
    );
    let tail = "\nendstream\nendobj\ntrailer << /Root 1 0 R /Size 7 >>\n%%EOF\n";
    let image_head_len = 200; // Room for the image dictionary, padded below.
    let image_len = SIZE - head.len() - image_head_len - tail.len();
    let mut image_head = format!(
        "6 0 obj << /Type /XObject /Subtype /Image /Width 1024 /Height 1024 \
         /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length {image_len} >>"
    );
    let pad = image_head_len - image_head.len() - "\nstream\n".len();
    image_head.push_str(&" ".repeat(pad));
    image_head.push_str("\nstream\n");

    let mut pdf = Vec::with_capacity(SIZE);
    pdf.extend_from_slice(head.as_bytes());
    pdf.extend_from_slice(image_head.as_bytes());
    let mut state = 0x2545_f491_4f6c_dd1du64;
    pdf.extend((0..image_len).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    }));
    pdf.extend_from_slice(tail.as_bytes());
    assert_eq!(pdf.len(), SIZE);

    let b64 = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let mut mail = String::from(
        "From: Ana Rusu <ana@primaria.md>\r\nTo: integrare@egov.md\r\n\
         Subject: Solicitare de integrare MPass\r\n\
         Date: Mon, 2 Mar 2026 09:30:00 +0200\r\nMessage-ID: <bench-pdf@primaria.md>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Bună ziua, vă transmitem cererea de integrare cu MPass.\r\n\
         --b\r\nContent-Type: application/pdf; name=cerere.pdf\r\n\
         Content-Disposition: attachment; filename=cerere.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in b64.as_bytes().chunks(76) {
        mail.push_str(std::str::from_utf8(line).unwrap());
        mail.push_str("\r\n");
    }
    mail.push_str("--b--\r\n");
    mail.into_bytes()
}
