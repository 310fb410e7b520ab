//! How long inspecting a typical certificate and a typical `.pfx` takes
//! (`cargo bench --bench inspect`). Fixtures are made with openssl in a
//! temporary folder; nothing is committed. The target is well under a
//! millisecond each.

use std::process::Command;
use std::time::{Duration, Instant};

use egov_intake::inspect::{Settings, inspect_file};

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
    let settings = Settings::default();
    for (name, file) in [
        ("certificate (DER .cer)", "cert.cer"),
        ("certificate (PEM)", "cert.pem"),
        ("pkcs12 (.pfx)", "sistem.pfx"),
        ("private key (PEM)", "key.pem"),
    ] {
        let data = std::fs::read(d.join(file)).expect("fixture");
        measure(name, &data, &settings);
    }
}
