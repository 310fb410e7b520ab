//! How long inspecting a typical certificate and a typical `.pfx` takes
//! (`cargo bench --bench inspect`), and how fast the raw-mail key scan
//! reads a mail with a 1 MiB attachment beside a baseline doing the least
//! the same bytes need (base64-decode the attachment, search the mail for
//! a marker). Fixtures are made with openssl in a temporary folder;
//! nothing is committed.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use egov_intake::inspect::{Settings, inspect_file, raw};

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is needed to make the bench fixtures");
    assert!(status.success(), "openssl {args:?} failed");
}

fn measure(name: &str, data: &[u8], settings: &Settings) {
    // Warm up, then run for about a second.
    for _ in 0..100 {
        std::hint::black_box(inspect_file(name, data, settings));
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        std::hint::black_box(inspect_file(name, std::hint::black_box(data), settings));
        n += 1;
    }
    let per = start.elapsed() / n;
    println!(
        "inspect {name:<22} {:>8.1} µs/file  ({n} runs, {} bytes)",
        per.as_secs_f64() * 1e6,
        data.len()
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "730",
            "-utf8",
            "-subj",
            "/CN=Sistemul informațional/O=Primăria Ialoveni",
            "-addext",
            "extendedKeyUsage=clientAuth",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    openssl(
        d,
        &[
            "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.cer",
        ],
    );
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-in",
            "cert.pem",
            "-inkey",
            "key.pem",
            "-out",
            "sistem.pfx",
            "-passout",
            "pass:secret",
        ],
    );
    let settings = Settings::at(chrono::Utc::now());
    for (name, file) in [
        ("certificate (DER .cer)", "cert.cer"),
        ("certificate (PEM)", "cert.pem"),
        ("pkcs12 (.pfx)", "sistem.pfx"),
        ("private key (PEM)", "key.pem"),
    ] {
        let data = std::fs::read(d.join(file)).expect("fixture");
        measure(name, &data, &settings);
    }
    raw_scan(&settings);
}

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

fn raw_scan(settings: &Settings) {
    // 1 MiB of incompressible bytes, as a PDF or a zip would be.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let attachment: Vec<u8> = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&attachment);
    let mut mail = String::from(
        "From: ana@primaria.md\r\nSubject: Solicitare\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBună ziua, vă transmitem cererea.\r\n\
         --b\r\nContent-Type: application/pdf; name=cerere.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in b64.as_bytes().chunks(76) {
        mail.push_str(std::str::from_utf8(line).unwrap());
        mail.push_str("\r\n");
    }
    mail.push_str("--b--\r\n");
    let mail = mail.into_bytes();
    let mb = mail.len() as f64 / (1 << 20) as f64;
    let scan = per_run(|| {
        std::hint::black_box(raw::scan(std::hint::black_box(&mail), settings));
    });
    let baseline = per_run(|| {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .unwrap();
        let marker = mail.windows(11).any(|w| w == b"PRIVATE KEY");
        std::hint::black_box((decoded, marker));
    });
    println!(
        "raw scan {mb:.2} MiB mail        {:>8.2} ms  ({:.0} MiB/s); baseline decode + search {:.2} ms ({:.0} MiB/s)",
        scan.as_secs_f64() * 1e3,
        mb / scan.as_secs_f64(),
        baseline.as_secs_f64() * 1e3,
        mb / baseline.as_secs_f64(),
    );
}
