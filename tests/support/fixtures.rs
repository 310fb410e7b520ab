//! Test-time corpus of everything a beneficiary might attach instead of (or next to) the public
//! `.cer` of their authentication certificate: private keys in every common format, PKCS#12
//! files, certificates good and bad, public keys and plain decoys — plus helpers that wrap them
//! into complete e-mails and zip archives.
//!
//! Nothing is committed and nothing is cached: [`generate`] makes fresh keys on every call, in a
//! temp dir, with the real tools (`openssl`, `ssh-keygen`, `puttygen`) so that the daemon is
//! tested against what those tools really write. What no tool can produce here is built by hand:
//! an `sk-ssh-ed25519@openssh.com` key (real ones need a FIDO token), a BER indefinite-length
//! PKCS#12 (as Firefox exports), JWKs, a minimal PDF. A missing tool is an error that names its
//! Debian package, never a skip (scripts/test.sh installs `openssl`, `openssh-client` and
//! `putty-tools`).
//!
//! Every encrypted fixture uses [`PASSWORD`]. To keep generation fast (RSA-2048 key generation is
//! the slow part), one RSA key is shared by all the RSA private-key formats, the PKCS#12 files
//! and the valid RSA leaf certificate — they *are* the same key in different clothes, as a
//! beneficiary exporting "their key" would send — while every certificate with a distinct
//! property (expired, SHA-1, ...) has its own key.
//!
//! [`Fixture::secrets`] are 40-character runs of standard base64 chosen so that a leak test can
//! grep persisted data for them without false alarms:
//! * each decodes to bytes with no 16-byte run of the corpus' public material (certificates,
//!   public keys, SSH public blobs, certificate fingerprints) — a daemon may store those — and,
//!   shorter public runs discounted, at least 12 random-looking bytes: key material or
//!   ciphertext, not format boilerplate (DER headers, "openssh-key-v1", comments, padding);
//! * runs of `base64(bytes)` start on a 4-character boundary and never straddle a 76-column line
//!   break, so they also occur verbatim in the attachment of [`mail_with_attachment`];
//! * for text formats (PEM, OpenSSH, PuTTY, ssh.com, JWK) there are also runs of the key's own
//!   base64 body, each within one line of the file.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// Password of every password-protected fixture (PKCS#8, PEM, PKCS#12, OpenSSH, PuTTY, ssh.com).
pub const PASSWORD: &str = "Parola-Test-2025";

/// What a fixture is, for assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    PrivateKey,
    Pkcs12,
    Certificate,
    PublicKey,
    Other,
}

#[derive(Clone)]
pub struct Fixture {
    /// Stable, descriptive id, e.g. "pkcs8-rsa-pem", "pkcs12-ber-indefinite", "cert-expired".
    pub id: String,
    /// A misleading or typical file name (e.g. a DER key named "certificat.cer").
    pub file_name: String,
    /// The Content-Type a real client would send it with (often misleading).
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub expect: Expect,
    /// For keys and PKCS#12: whether the file is password-protected (with [`PASSWORD`]).
    pub encrypted: bool,
    /// Base64 runs (standard alphabet, no line breaks, 40 chars) that must never be persisted;
    /// non-empty for every fixture holding private key material (see the module docs).
    pub secrets: Vec<String>,
}

impl fmt::Debug for Fixture {
    // The bytes would drown any assertion message; their length is enough.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("id", &self.id)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .field("expect", &self.expect)
            .field("encrypted", &self.encrypted)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

pub struct Corpus {
    /// Where the files were generated: `work/` holds the tools' scratch files, `fixtures/<id>/
    /// <file_name>` a copy of every fixture (see [`Corpus::path`]).
    pub dir: tempfile::TempDir,
    pub fixtures: Vec<Fixture>,
    /// PEM of the test root CA and of the intermediate that issued the leaf certificates, for
    /// trust-anchor tests.
    pub root_ca_pem: Vec<u8>,
    pub intermediate_ca_pem: Vec<u8>,
}

/// Ids accepted by [`Corpus::get`] for another fixture.
const ALIASES: &[(&str, &str)] = &[("cert-valid-rsa2048", "cert-valid-rsa2048-der")];

impl Corpus {
    /// The fixture with this id (or alias: "cert-valid-rsa2048" is "cert-valid-rsa2048-der");
    /// panics with the list of ids when there is none.
    pub fn get(&self, id: &str) -> &Fixture {
        let wanted = ALIASES
            .iter()
            .find(|(alias, _)| *alias == id)
            .map_or(id, |(_, target)| target);
        self.fixtures
            .iter()
            .find(|f| f.id == wanted)
            .unwrap_or_else(|| {
                let ids: Vec<&str> = self.fixtures.iter().map(|f| f.id.as_str()).collect();
                panic!("no fixture {id:?}; the corpus has: {}", ids.join(", "))
            })
    }

    /// Path of the fixture's file on disk (named [`Fixture::file_name`], mode 0600).
    pub fn path(&self, id: &str) -> PathBuf {
        let fixture = self.get(id);
        fixture_path(self.dir.path(), fixture)
    }
}

fn fixture_path(dir: &Path, fixture: &Fixture) -> PathBuf {
    dir.join("fixtures")
        .join(&fixture.id)
        .join(&fixture.file_name)
}

// =============================================================================================
// Generation.

/// Generates everything in a fresh temp dir (a second or two; nothing is cached across calls).
pub fn generate() -> Result<Corpus> {
    let tools = Tools::find()?;
    let dir = tempfile::Builder::new()
        .prefix("egov-fixtures-")
        .tempdir()
        .context("cannot create a temp dir for the fixtures")?;
    let work = Work {
        tools,
        dir: dir.path().join("work"),
    };
    fs::create_dir_all(&work.dir)?;
    let w = &work;

    // Phase 1: every key that is generated rather than converted, in parallel. The RSA-2048
    // ones dominate, so they go first.
    let mut keygen: Vec<Job<'_, ()>> = Vec::new();
    for name in [
        "rsa-main",
        "rsa-root",
        "rsa-int",
        "rsa-expired",
        "rsa-expiring",
        "rsa-serverauth",
        "rsa-sha1",
    ] {
        keygen.push(Box::new(move || w.genpkey_rsa(name, 2048)));
    }
    keygen.push(Box::new(|| w.genpkey_rsa("rsa-1024", 1024)));
    keygen.push(Box::new(|| {
        // Multi-prime RSA: PKCS#1 version 1 with a trailing OtherPrimeInfos.
        w.openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-pkeyopt",
            "rsa_keygen_primes:3",
            "-out",
            "rsa-3prime.key",
        ])
        .map(drop)
    }));
    keygen.push(Box::new(|| w.genpkey_ec("ec-main")));
    keygen.push(Box::new(|| w.genpkey_ec("ec-selfsigned-ca")));
    keygen.push(Box::new(|| {
        w.openssl(&["genpkey", "-algorithm", "ED25519", "-out", "ed25519.key"])
            .map(drop)
    }));
    keygen.push(Box::new(|| {
        // DSA-1024: larger parameters take seconds to generate, and the format is what counts.
        w.openssl(&[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:1024",
            "-out",
            "dsa.params",
        ])?;
        w.openssl(&["genpkey", "-paramfile", "dsa.params", "-out", "dsa.key"])
            .map(drop)
    }));
    for (name, args) in [
        ("ssh-ed25519", &["-t", "ed25519"][..]),
        ("ssh-ecdsa", &["-t", "ecdsa", "-b", "256"][..]),
    ] {
        keygen.push(Box::new(move || {
            let mut all = args.to_vec();
            all.extend(["-N", "", "-C", "ana@primaria.md", "-q", "-f", name]);
            w.ssh_keygen(&all).map(drop)
        }));
    }
    run_parallel(keygen)?;

    // Phase 2 (sequential, quick): the CA pair and inputs shared by later jobs.
    w.write("req.cnf", REQ_CNF.as_bytes())?;
    w.write("password.txt", format!("{PASSWORD}\n").as_bytes())?;
    w.openssl(&[
        "req",
        "-config",
        "req.cnf",
        "-x509",
        "-new",
        "-key",
        "rsa-root.key",
        "-sha256",
        "-days",
        "3650",
        "-set_serial",
        &random_serial(),
        "-subj",
        "/C=MD/O=egov-intake test/CN=egov-intake Test Root CA",
        "-extensions",
        "v3_root",
        "-out",
        "root.crt",
    ])?;
    w.openssl(&[
        "req",
        "-config",
        "req.cnf",
        "-new",
        "-key",
        "rsa-int.key",
        "-subj",
        "/C=MD/O=egov-intake test/CN=egov-intake Test Issuing CA",
        "-out",
        "int.csr",
    ])?;
    w.openssl(&[
        "x509",
        "-req",
        "-in",
        "int.csr",
        "-CA",
        "root.crt",
        "-CAkey",
        "rsa-root.key",
        "-set_serial",
        &random_serial(),
        "-days",
        "1825",
        "-sha256",
        "-extfile",
        "req.cnf",
        "-extensions",
        "v3_int",
        "-out",
        "int.crt",
    ])?;
    // PuTTY and ssh-keygen import the traditional ("RSA PRIVATE KEY") form.
    w.openssl(&[
        "rsa",
        "-in",
        "rsa-main.key",
        "-traditional",
        "-out",
        "rsa-main.pkcs1.pem",
    ])?;

    // Phase 3: certificates and every conversion of the keys, in parallel.
    let jobs: Vec<Job<'_, Output>> = vec![
        Box::new(|| w.pem_private_keys()),
        Box::new(|| w.encrypted_private_keys()),
        Box::new(|| w.der_private_keys()),
        Box::new(|| w.openssh_converted("openssh-rsa", "rsa-main.pkcs1.pem", "id_rsa")),
        Box::new(|| w.openssh_converted("openssh-ed25519", "ssh-ed25519", "id_ed25519")),
        Box::new(|| w.openssh_converted("openssh-ecdsa", "ssh-ecdsa", "id_ecdsa")),
        Box::new(|| w.openssh_sk()),
        Box::new(|| w.ppk("rsa", "rsa-main.pkcs1.pem")),
        Box::new(|| w.ppk("ed25519", "ssh-ed25519")),
        Box::new(|| w.sshcom()),
        Box::new(|| w.jwks()),
        Box::new(|| w.valid_rsa_leaf()),
        Box::new(|| w.other_leaves()),
        Box::new(|| w.expired_leaf()),
        Box::new(|| w.selfsigned_ca()),
        Box::new(|| w.public_keys()),
        Box::new(|| Ok(others())),
    ];
    let mut outputs = run_parallel(jobs)?;

    // Phase 4: what needs the leaf certificate.
    let jobs: Vec<Job<'_, Output>> =
        vec![Box::new(|| w.pkcs12_files()), Box::new(|| w.pem_bundle())];
    outputs.extend(run_parallel(jobs)?);

    let mut fixtures = Vec::new();
    let mut public = PublicSet::default();
    for output in outputs {
        fixtures.extend(output.fixtures);
        for bytes in &output.public {
            public.add(bytes);
        }
    }
    let root_ca_pem = w.read("root.crt")?;
    let intermediate_ca_pem = w.read("int.crt")?;
    for pem in [&root_ca_pem, &intermediate_ca_pem] {
        for (_, der) in pem_blocks(&String::from_utf8_lossy(pem)) {
            public.add_certificate(&der);
        }
    }
    for fixture in &fixtures {
        public.add_from_fixture(fixture)?;
    }
    let mut seen = HashSet::new();
    for fixture in &mut fixtures {
        ensure!(
            seen.insert(fixture.id.clone()),
            "duplicate fixture id {}",
            fixture.id
        );
        if holds_key(fixture) {
            fixture.secrets = secrets_for(&fixture.bytes, &public);
            ensure!(
                !fixture.secrets.is_empty(),
                "found no secret base64 run in fixture {} — the selection rules need a look",
                fixture.id
            );
        }
        let path = fixture_path(dir.path(), fixture);
        fs::create_dir_all(path.parent().expect("fixture paths have a parent"))?;
        write_private(&path, &fixture.bytes)?;
    }

    Ok(Corpus {
        dir,
        fixtures,
        root_ca_pem,
        intermediate_ca_pem,
    })
}

/// Whether the fixture contains private key material (the certificate-only PKCS#12 does not).
fn holds_key(fixture: &Fixture) -> bool {
    match fixture.expect {
        Expect::PrivateKey => true,
        Expect::Pkcs12 => fixture.id != "pkcs12-certonly-nokeys",
        _ => false,
    }
}

/// What one generation job produced: fixtures, and public material (SPKIs) that secrets must
/// never be taken from.
#[derive(Default)]
struct Output {
    fixtures: Vec<Fixture>,
    public: Vec<Vec<u8>>,
}

impl Output {
    fn of(fixtures: Vec<Fixture>) -> Output {
        Output {
            fixtures,
            public: Vec::new(),
        }
    }
}

fn fixture(
    id: &str,
    file_name: &str,
    content_type: &str,
    bytes: Vec<u8>,
    expect: Expect,
    encrypted: bool,
) -> Fixture {
    Fixture {
        id: id.to_owned(),
        file_name: file_name.to_owned(),
        content_type: content_type.to_owned(),
        bytes,
        expect,
        encrypted,
        secrets: Vec::new(),
    }
}

/// Content types clients really use for these files (Windows maps `.pub` to Publisher).
const CT_CERT: &str = "application/x-x509-ca-cert";
const CT_PKIX: &str = "application/pkix-cert";
const CT_PEM: &str = "application/x-pem-file";
const CT_OCTET: &str = "application/octet-stream";
const CT_TEXT: &str = "text/plain";
const CT_P12: &str = "application/x-pkcs12";
const CT_JSON: &str = "application/json";

/// openssl configuration for `req` and the certificate extensions (our own, so that the system's
/// openssl.cnf defaults cannot change the certificates).
const REQ_CNF: &str = "\
[req]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
[dn]
[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_selfsigned]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[v3_int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf_rsa]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:ana.popescu@primaria.md
[leaf_ec]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:ana.popescu@primaria.md
[leaf_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:primaria-ialoveni.md
";

/// Subject of a leaf certificate: a Moldovan town hall employee, with `cn` telling them apart.
fn leaf_subject(cn: &str) -> String {
    format!("/C=MD/L=Ialoveni/O=Primaria Ialoveni/OU=Test/CN={cn}")
}

// ---------------------------------------------------------------------------------------------
// Tools and the scratch directory.

#[derive(Clone)]
struct Tools {
    openssl: PathBuf,
    ssh_keygen: PathBuf,
    puttygen: PathBuf,
}

impl Tools {
    fn find() -> Result<Tools> {
        Ok(Tools {
            openssl: find_tool("openssl", "openssl")?,
            ssh_keygen: find_tool("ssh-keygen", "openssh-client")?,
            puttygen: find_tool("puttygen", "putty-tools")?,
        })
    }
}

fn find_tool(name: &str, package: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| {
            anyhow!(
                "cannot generate the key fixtures: `{name}` is not installed (not found in PATH); \
                 install the Debian package {package} (scripts/test.sh does)"
            )
        })
}

/// The scratch directory every tool runs in; all file names below are relative to it.
struct Work {
    tools: Tools,
    dir: PathBuf,
}

impl Work {
    fn run(&self, tool: &Path, args: &[&str]) -> Result<Vec<u8>> {
        let out = Command::new(tool)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", tool.display()))?;
        if !out.status.success() {
            bail!(
                "`{} {}` failed ({}): {}{}",
                tool.display(),
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(out.stdout)
    }

    fn openssl(&self, args: &[&str]) -> Result<Vec<u8>> {
        self.run(&self.tools.openssl, args)
    }

    fn ssh_keygen(&self, args: &[&str]) -> Result<Vec<u8>> {
        self.run(&self.tools.ssh_keygen, args)
    }

    fn puttygen(&self, args: &[&str]) -> Result<Vec<u8>> {
        self.run(&self.tools.puttygen, args)
    }

    fn read(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.dir.join(name);
        fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        write_private(&self.dir.join(name), bytes)
    }

    /// Copies a key file with mode 0600 (ssh-keygen refuses keys others can read).
    fn copy_key(&self, from: &str, to: &str) -> Result<()> {
        self.write(to, &self.read(from)?)
    }

    fn genpkey_rsa(&self, name: &str, bits: u32) -> Result<()> {
        let out = format!("{name}.key");
        let bits = format!("rsa_keygen_bits:{bits}");
        self.openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &bits,
            "-out",
            &out,
        ])
        .map(drop)
    }

    fn genpkey_ec(&self, name: &str) -> Result<()> {
        let out = format!("{name}.key");
        self.openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-pkeyopt",
            "ec_param_enc:named_curve",
            "-out",
            &out,
        ])
        .map(drop)
    }

    /// DER SubjectPublicKeyInfo of a key file (public material: secrets must avoid it).
    fn spki(&self, key: &str) -> Result<Vec<u8>> {
        self.openssl(&["pkey", "-in", key, "-pubout", "-outform", "DER"])
    }

    // -----------------------------------------------------------------------------------------
    // PEM and DER private keys.

    fn pem_private_keys(&self) -> Result<Output> {
        let pkcs1 = self.openssl(&["rsa", "-in", "rsa-main.key", "-traditional"])?;
        let sec1 = self.openssl(&["ec", "-in", "ec-main.key"])?;
        let dsa = self.openssl(&["dsa", "-in", "dsa.key"])?;
        let legacy = self.openssl(&[
            "rsa",
            "-in",
            "rsa-main.key",
            "-traditional",
            "-aes128",
            "-passout",
            &format!("pass:{PASSWORD}"),
        ])?;
        ensure!(
            String::from_utf8_lossy(&legacy).contains("Proc-Type: 4,ENCRYPTED"),
            "openssl rsa -aes128 -traditional did not write a Proc-Type header"
        );
        let k = Expect::PrivateKey;
        let fixtures = vec![
            fixture(
                "pkcs8-rsa-pem",
                "cheie_privata.pem",
                CT_PEM,
                self.read("rsa-main.key")?,
                k,
                false,
            ),
            fixture(
                "pkcs8-ec-pem",
                "certificat.pem",
                CT_CERT,
                self.read("ec-main.key")?,
                k,
                false,
            ),
            fixture(
                "pkcs8-ed25519-pem",
                "semnatura.key",
                CT_OCTET,
                self.read("ed25519.key")?,
                k,
                false,
            ),
            fixture("pkcs1-rsa-pem", "server.key", CT_TEXT, pkcs1, k, false),
            fixture(
                "pkcs1-rsa-pem-legacy-encrypted",
                "cheie.key",
                CT_OCTET,
                legacy,
                k,
                true,
            ),
            fixture("sec1-ec-pem", "ec.pem", CT_PEM, sec1, k, false),
            fixture("dsa-pem", "dsa.key", CT_OCTET, dsa, k, false),
        ];
        Ok(Output {
            fixtures,
            public: vec![
                self.spki("rsa-main.key")?,
                self.spki("ec-main.key")?,
                self.spki("ed25519.key")?,
                self.spki("dsa.key")?,
            ],
        })
    }

    /// PKCS#8 EncryptedPrivateKeyInfo (openssl 3 default: PBES2, PBKDF2-SHA256, AES-256-CBC).
    fn encrypted_pkcs8(&self, key: &str, der: bool) -> Result<Vec<u8>> {
        self.openssl(&[
            "pkcs8",
            "-topk8",
            "-in",
            key,
            "-v2",
            "aes-256-cbc",
            "-passout",
            &format!("pass:{PASSWORD}"),
            "-outform",
            if der { "DER" } else { "PEM" },
        ])
    }

    fn encrypted_private_keys(&self) -> Result<Output> {
        let k = Expect::PrivateKey;
        Ok(Output::of(vec![
            fixture(
                "pkcs8-rsa-pem-encrypted",
                "cheie_privata_protejata.pem",
                CT_PEM,
                self.encrypted_pkcs8("rsa-main.key", false)?,
                k,
                true,
            ),
            fixture(
                "pkcs8-ec-pem-encrypted",
                "certificat.crt",
                CT_CERT,
                self.encrypted_pkcs8("ec-main.key", false)?,
                k,
                true,
            ),
            fixture(
                "pkcs8-rsa-der-encrypted",
                "certificat.cer",
                CT_CERT,
                self.encrypted_pkcs8("rsa-main.key", true)?,
                k,
                true,
            ),
            fixture(
                "pkcs8-ec-der-encrypted",
                "cheie.der",
                CT_PKIX,
                self.encrypted_pkcs8("ec-main.key", true)?,
                k,
                true,
            ),
        ]))
    }

    fn der_private_keys(&self) -> Result<Output> {
        let k = Expect::PrivateKey;
        let der = ["-outform", "DER"];
        Ok(Output::of(vec![
            fixture(
                "pkcs8-rsa-der",
                "cheie.cer",
                CT_CERT,
                self.openssl(&[&["pkey", "-in", "rsa-main.key"][..], &der].concat())?,
                k,
                false,
            ),
            fixture(
                "pkcs8-ec-der",
                "certificat_ec.cer",
                CT_CERT,
                self.openssl(&[&["pkey", "-in", "ec-main.key"][..], &der].concat())?,
                k,
                false,
            ),
            fixture(
                "pkcs1-rsa-der",
                "certificat.crt",
                CT_CERT,
                self.openssl(
                    &[&["rsa", "-in", "rsa-main.key", "-traditional"][..], &der].concat(),
                )?,
                k,
                false,
            ),
            fixture(
                "pkcs1-rsa-3prime-der",
                "server.der",
                CT_CERT,
                self.openssl(
                    &[&["rsa", "-in", "rsa-3prime.key", "-traditional"][..], &der].concat(),
                )?,
                k,
                false,
            ),
            fixture(
                "pkcs8-rsa-3prime-der",
                "server.cer",
                CT_CERT,
                self.openssl(&[&["pkey", "-in", "rsa-3prime.key"][..], &der].concat())?,
                k,
                false,
            ),
            fixture(
                "sec1-ec-der",
                "cheie_ec.crt",
                CT_PKIX,
                self.openssl(&[&["ec", "-in", "ec-main.key"][..], &der].concat())?,
                k,
                false,
            ),
        ]))
    }

    // -----------------------------------------------------------------------------------------
    // SSH formats.

    /// `ssh-keygen -p` rewrites any key it can read in the openssh-key-v1 format, so the RSA key
    /// is the shared one and the others come from ssh-keygen itself; then a copy is encrypted.
    fn openssh_converted(&self, id: &str, source: &str, file_name: &str) -> Result<Output> {
        let plain = format!("{id}.key");
        let encrypted = format!("{id}-encrypted.key");
        self.copy_key(source, &plain)?;
        self.ssh_keygen(&["-p", "-P", "", "-N", "", "-q", "-f", &plain])?;
        self.ssh_keygen(&["-c", "-C", "ana@primaria.md", "-P", "", "-q", "-f", &plain])?;
        self.copy_key(&plain, &encrypted)?;
        self.ssh_keygen(&["-p", "-P", "", "-N", PASSWORD, "-q", "-f", &encrypted])?;
        let k = Expect::PrivateKey;
        Ok(Output::of(vec![
            fixture(id, file_name, CT_OCTET, self.read(&plain)?, k, false),
            fixture(
                &format!("{id}-encrypted"),
                &format!("{file_name}.txt"),
                CT_TEXT,
                self.read(&encrypted)?,
                k,
                true,
            ),
        ]))
    }

    /// A security-key-backed Ed25519 key, built by hand (ssh-keygen needs the FIDO token).
    fn openssh_sk(&self) -> Result<Output> {
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(
            ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                .map_err(|_| anyhow!("ring cannot generate an Ed25519 key"))?
                .as_ref(),
        )
        .map_err(|_| anyhow!("ring cannot read its own Ed25519 key"))?;
        use ring::signature::KeyPair as _;
        let public: [u8; 32] = pair.public_key().as_ref().try_into()?;
        let key_handle = random_bytes(64);
        let checkint = u32::from_be_bytes(random_bytes(4).try_into().expect("4 bytes"));
        let pem = openssh_sk_ed25519(&public, &key_handle, checkint, "ana@primaria.md");
        Ok(Output::of(vec![fixture(
            "openssh-sk-ed25519",
            "id_ed25519_sk",
            CT_TEXT,
            pem.into_bytes(),
            Expect::PrivateKey,
            false,
        )]))
    }

    /// PuTTY .ppk v2 and v3 of `source`, plain and encrypted. Argon2 gets one pass: puttygen's
    /// default (auto-tuned to 100 ms, i.e. several passes) only costs time, not coverage.
    fn ppk(&self, kind: &str, source: &str) -> Result<Output> {
        let versions: &[&str] = if kind == "rsa" { &["2", "3"] } else { &["3"] };
        let mut fixtures = Vec::new();
        for version in versions {
            for encrypted in [false, true] {
                let suffix = if encrypted { "-encrypted" } else { "" };
                let id = format!("ppk-v{version}-{kind}{suffix}");
                let out = format!("{id}.ppk");
                let params = format!("version={version},passes=1");
                let mut args = vec![
                    source,
                    "-O",
                    "private",
                    "-C",
                    "ana@primaria.md",
                    "--ppk-param",
                    &params,
                    "-o",
                    &out,
                ];
                if encrypted {
                    args.extend(["--new-passphrase", "password.txt"]);
                }
                self.puttygen(&args)?;
                let (name, ct) = match (version, encrypted) {
                    (&"2", false) => ("cheie.ppk", CT_TEXT),
                    (&"2", true) => ("putty.ppk", CT_OCTET),
                    (_, false) => ("mpass.ppk", CT_TEXT),
                    (_, true) => ("certificat.ppk", CT_OCTET),
                };
                fixtures.push(fixture(
                    &id,
                    name,
                    ct,
                    self.read(&out)?,
                    Expect::PrivateKey,
                    encrypted,
                ));
            }
        }
        Ok(Output::of(fixtures))
    }

    /// ssh.com / Tectia format; its header says ENCRYPTED even when the cipher is "none".
    fn sshcom(&self) -> Result<Output> {
        self.puttygen(&[
            "rsa-main.pkcs1.pem",
            "-O",
            "private-sshcom",
            "-o",
            "sshcom.key",
        ])?;
        self.puttygen(&[
            "rsa-main.pkcs1.pem",
            "-O",
            "private-sshcom",
            "--new-passphrase",
            "password.txt",
            "-o",
            "sshcom-encrypted.key",
        ])?;
        let k = Expect::PrivateKey;
        Ok(Output::of(vec![
            fixture(
                "sshcom-rsa",
                "cheie_ssh2.key",
                CT_TEXT,
                self.read("sshcom.key")?,
                k,
                false,
            ),
            fixture(
                "sshcom-encrypted",
                "tectia.key",
                CT_OCTET,
                self.read("sshcom-encrypted.key")?,
                k,
                true,
            ),
        ]))
    }

    // -----------------------------------------------------------------------------------------
    // JWK.

    fn jwks(&self) -> Result<Output> {
        let sec1 = self.openssl(&["ec", "-in", "ec-main.key", "-outform", "DER"])?;
        let (d, x, y) = sec1_components(&sec1)?;
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let (x, y, d) = (b64(&x), b64(&y), b64(&d));
        // Written by hand, "d" last: its 43 characters are too few to hold a secret wherever they
        // fall, so the kid (a thumbprint-like hex string) gets the length that puts "d" at the
        // start of a 76-column line of the mail's base64 (57 bytes per line).
        let thumbprint = hex::encode(Sha256::digest(format!("{x}{y}")));
        let ec_jwk = |kid: &str, with_d: bool| {
            let mut text = format!(
                "{{\n  \"kty\": \"EC\",\n  \"kid\": \"{kid}\",\n  \"use\": \"sig\",\n  \
                 \"crv\": \"P-256\",\n  \"x\": \"{x}\",\n  \"y\": \"{y}\""
            );
            if with_d {
                text.push_str(",\n  \"d\": \"");
                let aligned = text.len();
                text.push_str(&format!("{d}\""));
                (text, aligned)
            } else {
                let len = text.len();
                (text, len)
            }
        };
        let base_kid = "mpass-";
        let (_, offset) = ec_jwk(base_kid, true);
        let extra = (57 - offset % 57) % 57;
        let kid = format!("{base_kid}{}", &thumbprint[..extra]);
        let (mut private, _) = ec_jwk(&kid, true);
        let (mut public, _) = ec_jwk(&kid, false);
        private.push_str("\n}\n");
        public.push_str("\n}\n");

        let pkcs1 = self.openssl(&[
            "rsa",
            "-in",
            "rsa-main.key",
            "-traditional",
            "-outform",
            "DER",
        ])?;
        let ints = der_children(der_content(&pkcs1, 0x30)?)?;
        ensure!(
            ints.len() == 9 && ints.iter().all(|(tag, _)| *tag == 0x02),
            "unexpected PKCS#1 structure"
        );
        let int = |i: usize| {
            let bytes = ints[i].1;
            let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
            b64(&bytes[start..])
        };
        let rsa = serde_json::json!({
            "kty": "RSA", "alg": "RS256", "kid": "ana-popescu-rsa",
            "n": int(1), "e": int(2), "d": int(3), "p": int(4), "q": int(5),
            "dp": int(6), "dq": int(7), "qi": int(8),
        });
        let pretty = |v: &serde_json::Value| -> Result<Vec<u8>> {
            let mut text = serde_json::to_string_pretty(v)?;
            text.push('\n');
            Ok(text.into_bytes())
        };
        Ok(Output::of(vec![
            fixture(
                "jwk-ec-private",
                "cheie.jwk",
                CT_JSON,
                private.into_bytes(),
                Expect::PrivateKey,
                false,
            ),
            fixture(
                "jwk-rsa-private",
                "jwks.json",
                CT_JSON,
                pretty(&rsa)?,
                Expect::PrivateKey,
                false,
            ),
            fixture(
                "jwk-ec-public",
                "cheie_publica.json",
                CT_JSON,
                public.into_bytes(),
                Expect::PublicKey,
                false,
            ),
        ]))
    }

    // -----------------------------------------------------------------------------------------
    // Certificates.

    /// Signs a leaf for `key` with the intermediate CA; returns the PEM.
    fn sign_leaf(
        &self,
        name: &str,
        key: &str,
        cn: &str,
        extensions: &str,
        days: u32,
        digest: &str,
    ) -> Result<Vec<u8>> {
        let csr = format!("{name}.csr");
        let crt = format!("{name}.crt");
        self.openssl(&[
            "req",
            "-config",
            "req.cnf",
            "-new",
            "-key",
            key,
            "-subj",
            &leaf_subject(cn),
            "-out",
            &csr,
        ])?;
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "int.crt",
            "-CAkey",
            "rsa-int.key",
            "-set_serial",
            &random_serial(),
            "-days",
            &days.to_string(),
            &format!("-{digest}"),
            "-extfile",
            "req.cnf",
            "-extensions",
            extensions,
            "-out",
            &crt,
        ])?;
        self.read(&crt)
    }

    fn valid_rsa_leaf(&self) -> Result<Output> {
        let pem = self.sign_leaf(
            "leaf-valid",
            "rsa-main.key",
            "Ana Popescu",
            "leaf_rsa",
            730,
            "sha256",
        )?;
        let der = single_pem_der(&pem, "CERTIFICATE")?;
        let mut chain = pem.clone();
        chain.extend(self.read("int.crt")?);
        let c = Expect::Certificate;
        Ok(Output::of(vec![
            fixture(
                "cert-valid-rsa2048-der",
                "certificat.cer",
                CT_CERT,
                der,
                c,
                false,
            ),
            fixture(
                "cert-valid-rsa2048-pem",
                "certificat.crt",
                CT_CERT,
                pem,
                c,
                false,
            ),
            fixture(
                "cert-chain-pem",
                "lant_certificate.pem",
                CT_PEM,
                chain,
                c,
                false,
            ),
        ]))
    }

    fn other_leaves(&self) -> Result<Output> {
        let c = Expect::Certificate;
        let ec = self.sign_leaf(
            "leaf-ec",
            "ec-main.key",
            "Ana Popescu EC",
            "leaf_ec",
            730,
            "sha256",
        )?;
        let expiring = self.sign_leaf(
            "leaf-expiring",
            "rsa-expiring.key",
            "Ion Rusu",
            "leaf_rsa",
            10,
            "sha256",
        )?;
        let rsa1024 = self.sign_leaf(
            "leaf-rsa1024",
            "rsa-1024.key",
            "Maria Ceban",
            "leaf_rsa",
            730,
            "sha256",
        )?;
        let sha1 = self.sign_leaf(
            "leaf-sha1",
            "rsa-sha1.key",
            "Victor Lungu",
            "leaf_rsa",
            730,
            "sha1",
        )?;
        let server = self.sign_leaf(
            "leaf-serverauth",
            "rsa-serverauth.key",
            "primaria-ialoveni.md",
            "leaf_server",
            730,
            "sha256",
        )?;
        Ok(Output::of(vec![
            fixture(
                "cert-valid-ec-p256",
                "certificat_ec.cer",
                CT_CERT,
                single_pem_der(&ec, "CERTIFICATE")?,
                c,
                false,
            ),
            fixture(
                "cert-expiring-10d",
                "certificat.cer",
                CT_CERT,
                single_pem_der(&expiring, "CERTIFICATE")?,
                c,
                false,
            ),
            fixture("cert-rsa1024", "certificat.crt", CT_PKIX, rsa1024, c, false),
            fixture(
                "cert-sha1",
                "certificat.cer",
                CT_CERT,
                single_pem_der(&sha1, "CERTIFICATE")?,
                c,
                false,
            ),
            fixture(
                "cert-eku-serverauth",
                "server.cer",
                CT_CERT,
                single_pem_der(&server, "CERTIFICATE")?,
                c,
                false,
            ),
        ]))
    }

    /// OpenSSL 3.0 `x509` has no -not_before/-not_after, so the backdated certificate goes
    /// through `openssl ca`, which takes explicit dates (fixed ones: always in the past).
    fn expired_leaf(&self) -> Result<Output> {
        fs::create_dir_all(self.dir.join("ca-expired"))?;
        self.write("ca-expired/index.txt", b"")?;
        self.write("ca-expired/serial", b"1000\n")?;
        self.write(
            "ca-expired/ca.cnf",
            b"[ca]\n\
              default_ca = expired\n\
              [expired]\n\
              database = ca-expired/index.txt\n\
              new_certs_dir = ca-expired\n\
              serial = ca-expired/serial\n\
              policy = any\n\
              default_md = sha256\n\
              unique_subject = no\n\
              [any]\n\
              commonName = supplied\n",
        )?;
        self.openssl(&[
            "req",
            "-config",
            "req.cnf",
            "-new",
            "-key",
            "rsa-expired.key",
            "-subj",
            &leaf_subject("Elena Expirata"),
            "-out",
            "leaf-expired.csr",
        ])?;
        self.openssl(&[
            "ca",
            "-config",
            "ca-expired/ca.cnf",
            "-batch",
            "-notext",
            "-preserveDN",
            "-cert",
            "int.crt",
            "-keyfile",
            "rsa-int.key",
            "-in",
            "leaf-expired.csr",
            "-startdate",
            "20220301000000Z",
            "-enddate",
            "20240301000000Z",
            "-extfile",
            "req.cnf",
            "-extensions",
            "leaf_rsa",
            "-out",
            "leaf-expired.crt",
        ])?;
        let der = single_pem_der(&self.read("leaf-expired.crt")?, "CERTIFICATE")?;
        Ok(Output::of(vec![fixture(
            "cert-expired",
            "certificat.cer",
            CT_CERT,
            der,
            Expect::Certificate,
            false,
        )]))
    }

    fn selfsigned_ca(&self) -> Result<Output> {
        self.openssl(&[
            "req",
            "-config",
            "req.cnf",
            "-x509",
            "-new",
            "-key",
            "ec-selfsigned-ca.key",
            "-sha256",
            "-days",
            "3650",
            "-set_serial",
            &random_serial(),
            "-subj",
            "/C=MD/O=Autoritate Necunoscuta/CN=Autoritate Necunoscuta Root CA",
            "-extensions",
            "v3_selfsigned",
            "-out",
            "selfsigned-ca.crt",
        ])?;
        let der = single_pem_der(&self.read("selfsigned-ca.crt")?, "CERTIFICATE")?;
        Ok(Output::of(vec![fixture(
            "cert-ca-selfsigned",
            "certificat_radacina.cer",
            CT_CERT,
            der,
            Expect::Certificate,
            false,
        )]))
    }

    fn public_keys(&self) -> Result<Output> {
        let pem = self.openssl(&["pkey", "-in", "rsa-main.key", "-pubout"])?;
        Ok(Output::of(vec![
            fixture(
                "pubkey-pem",
                "cheie_publica.pem",
                CT_PEM,
                pem,
                Expect::PublicKey,
                false,
            ),
            fixture(
                "openssh-pub",
                "id_ed25519.pub",
                "application/vnd.ms-publisher",
                self.read("ssh-ed25519.pub")?,
                Expect::PublicKey,
                false,
            ),
        ]))
    }

    // -----------------------------------------------------------------------------------------
    // PKCS#12 and the mixed PEM bundle.

    /// `openssl pkcs12 -export` of the shared RSA key and the valid leaf with `extra` options.
    fn pkcs12(&self, name: &str, extra: &[&str], password: &str) -> Result<Vec<u8>> {
        let out = format!("{name}.p12");
        let pass = format!("pass:{password}");
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            "leaf-valid.crt",
            "-name",
            "Ana Popescu",
            "-passout",
            &pass,
            "-out",
            &out,
        ];
        if !extra.contains(&"-nokeys") {
            args.extend(["-inkey", "rsa-main.key"]);
        }
        args.extend(extra);
        self.openssl(&args)?;
        self.read(&out)
    }

    fn pkcs12_files(&self) -> Result<Output> {
        let chain = ["-certfile", "int.crt"];
        let modern = self.pkcs12("modern", &chain, PASSWORD)?;
        // -legacy: RC2-40 for the certificates, 3DES for the key, SHA-1 MAC (pre-3.0 default).
        let legacy = self.pkcs12("legacy", &[&chain[..], &["-legacy"]].concat(), PASSWORD)?;
        let for_ber = self.pkcs12("for-ber", &chain, PASSWORD)?;
        let ber = der_to_ber_indefinite(&for_ber).context("re-encoding the PKCS#12 as BER")?;
        let certonly = self.pkcs12("certonly", &["-nokeys"], PASSWORD)?;
        let nopass = self.pkcs12(
            "nopass",
            &["-keypbe", "NONE", "-certpbe", "NONE", "-nomac"],
            "",
        )?;
        let renamed = self.pkcs12("renamed", &chain, PASSWORD)?;
        let p = Expect::Pkcs12;
        Ok(Output::of(vec![
            fixture("pkcs12-modern-aes", "sistem.pfx", CT_P12, modern, p, true),
            fixture(
                "pkcs12-legacy-rc2-3des",
                "certificat.p12",
                "application/pkcs12",
                legacy,
                p,
                true,
            ),
            fixture(
                "pkcs12-ber-indefinite",
                "copie_firefox.p12",
                CT_P12,
                ber,
                p,
                true,
            ),
            fixture(
                "pkcs12-certonly-nokeys",
                "certificat.pfx",
                CT_P12,
                certonly,
                p,
                true,
            ),
            fixture(
                "pkcs12-nopass",
                "certificat.p12",
                CT_OCTET,
                nopass,
                p,
                false,
            ),
            fixture(
                "pkcs12-renamed-cer",
                "certificat.cer",
                CT_CERT,
                renamed,
                p,
                true,
            ),
        ]))
    }

    fn pem_bundle(&self) -> Result<Output> {
        let mut bundle = self.read("leaf-valid.crt")?;
        bundle.extend(self.read("rsa-main.key")?);
        Ok(Output::of(vec![fixture(
            "pem-bundle-cert-key",
            "certificat.pem",
            CT_CERT,
            bundle,
            Expect::PrivateKey,
            false,
        )]))
    }
}

/// Decoys with no key material.
fn others() -> Output {
    let text = "Bună ziua,\n\nVă rog să ne conectați la MPass. Certificatul îl trimit separat.\n\n\
                Cu stimă,\nAna Popescu\nPrimăria Ialoveni\n";
    let mut random = random_bytes(2048);
    // Never a plausible DER SEQUENCE or PEM by accident.
    random[0] = 0xa5;
    Output::of(vec![
        fixture(
            "text-plain",
            "cerere.txt",
            "text/plain; charset=utf-8",
            text.as_bytes().to_vec(),
            Expect::Other,
            false,
        ),
        fixture(
            "pdf-minimal",
            "cerere_conectare.pdf",
            "application/pdf",
            minimal_pdf(),
            Expect::Other,
            false,
        ),
        fixture(
            "random-bytes",
            "certificat.cer",
            CT_CERT,
            random,
            Expect::Other,
            false,
        ),
    ])
}

/// A one-page PDF with correct xref offsets, written by hand.
fn minimal_pdf() -> Vec<u8> {
    let content = "BT /F1 14 Tf 72 770 Td (Cerere de conectare la MPass) Tj ET\n";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{object}\nendobj\n", i + 1).bytes());
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    pdf
}

// ---------------------------------------------------------------------------------------------
// Hand-built formats.

/// openssh-key-v1 file (cipher and KDF "none") holding one `sk-ssh-ed25519@openssh.com` key,
/// laid out as OpenSSH's PROTOCOL.u2f and sshkey.c write it.
fn openssh_sk_ed25519(
    public: &[u8; 32],
    key_handle: &[u8],
    checkint: u32,
    comment: &str,
) -> String {
    const KEY_TYPE: &str = "sk-ssh-ed25519@openssh.com";
    const APPLICATION: &str = "ssh:";
    // SSH_SK_USER_PRESENCE_REQD: what `ssh-keygen -t ed25519-sk` sets by default.
    const FLAGS: u8 = 0x01;
    let mut public_blob = Vec::new();
    ssh_string(&mut public_blob, KEY_TYPE.as_bytes());
    ssh_string(&mut public_blob, public);
    ssh_string(&mut public_blob, APPLICATION.as_bytes());

    let mut private = Vec::new();
    private.extend(checkint.to_be_bytes());
    private.extend(checkint.to_be_bytes());
    ssh_string(&mut private, KEY_TYPE.as_bytes());
    ssh_string(&mut private, public);
    ssh_string(&mut private, APPLICATION.as_bytes());
    private.push(FLAGS);
    ssh_string(&mut private, key_handle);
    ssh_string(&mut private, b""); // reserved
    ssh_string(&mut private, comment.as_bytes());
    // Padding 1, 2, 3, ... up to the cipher block size (8 for "none").
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }

    let mut blob = b"openssh-key-v1\0".to_vec();
    ssh_string(&mut blob, b"none"); // cipher
    ssh_string(&mut blob, b"none"); // kdf
    ssh_string(&mut blob, b""); // kdf options
    blob.extend(1u32.to_be_bytes());
    ssh_string(&mut blob, &public_blob);
    ssh_string(&mut blob, &private);
    format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}-----END OPENSSH PRIVATE KEY-----\n",
        wrap(&STANDARD.encode(blob), 70, "\n")
    )
}

fn ssh_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend(u32::try_from(bytes.len()).expect("short").to_be_bytes());
    out.extend(bytes);
}

/// Reads SSH wire-format strings.
struct SshReader<'a>(&'a [u8]);

impl<'a> SshReader<'a> {
    fn u32(&mut self) -> Result<u32> {
        ensure!(self.0.len() >= 4, "truncated SSH data");
        let (head, rest) = self.0.split_at(4);
        self.0 = rest;
        Ok(u32::from_be_bytes(head.try_into()?))
    }

    fn string(&mut self) -> Result<&'a [u8]> {
        let len = self.u32()? as usize;
        ensure!(self.0.len() >= len, "truncated SSH string");
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }
}

/// The public key blob of an openssh-key-v1 file (stored in clear even when encrypted).
fn openssh_public_blob(der: &[u8]) -> Result<Vec<u8>> {
    let body = der
        .strip_prefix(b"openssh-key-v1\0")
        .ok_or_else(|| anyhow!("not an openssh-key-v1 key"))?;
    let mut reader = SshReader(body);
    for _ in 0..3 {
        reader.string()?; // cipher, kdf, kdf options
    }
    ensure!(reader.u32()? == 1, "expected exactly one key");
    Ok(reader.string()?.to_vec())
}

/// Re-encodes a DER PKCS#12 the way NSS (Firefox) writes them: every constructed value with
/// indefinite length (0x80 … 00 00), and the authSafe OCTET STRING as a constructed string of
/// 1 KiB pieces. Nothing inside an OCTET STRING is touched, so the MAC — computed over the
/// authSafe content's octets — still verifies.
pub fn der_to_ber_indefinite(der: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(der.len() + 256);
    let rest = ber_node(der, &mut out)?;
    ensure!(
        rest.is_empty(),
        "{} bytes after the outer value",
        rest.len()
    );
    Ok(out)
}

fn ber_node<'a>(input: &'a [u8], out: &mut Vec<u8>) -> Result<&'a [u8]> {
    const CHUNK: usize = 1024;
    let (tag, header, len) = der_header(input)?;
    let content = &input[header..header + len];
    if tag & 0x20 != 0 {
        out.extend([tag, 0x80]);
        let mut rest = content;
        while !rest.is_empty() {
            rest = ber_node(rest, out)?;
        }
        out.extend([0, 0]);
    } else if tag == 0x04 && len > CHUNK {
        out.extend([0x24, 0x80]);
        for piece in content.chunks(CHUNK) {
            out.push(0x04);
            push_der_len(out, piece.len());
            out.extend(piece);
        }
        out.extend([0, 0]);
    } else {
        out.extend(&input[..header + len]);
    }
    Ok(&input[header + len..])
}

/// (tag, header length, content length) of the DER value at the start of `input`.
fn der_header(input: &[u8]) -> Result<(u8, usize, usize)> {
    ensure!(input.len() >= 2, "truncated DER");
    let tag = input[0];
    ensure!(tag & 0x1f != 0x1f, "high tag numbers are not expected here");
    let first = input[1];
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        ensure!(
            (1..=4).contains(&n),
            "not DER: indefinite or over-long length"
        );
        ensure!(input.len() >= 2 + n, "truncated DER length");
        let len = input[2..2 + n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (2 + n, len)
    };
    ensure!(input.len() >= header + len, "truncated DER value");
    Ok((tag, header, len))
}

fn push_der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend(&bytes[skip..]);
    }
}

/// Content of the single DER value in `der`, which must have tag `tag`.
fn der_content(der: &[u8], tag: u8) -> Result<&[u8]> {
    let (actual, header, len) = der_header(der)?;
    ensure!(
        actual == tag,
        "expected DER tag {tag:#04x}, found {actual:#04x}"
    );
    Ok(&der[header..header + len])
}

/// (tag, content) of each value in a constructed value's content.
fn der_children(mut content: &[u8]) -> Result<Vec<(u8, &[u8])>> {
    let mut children = Vec::new();
    while !content.is_empty() {
        let (tag, header, len) = der_header(content)?;
        children.push((tag, &content[header..header + len]));
        content = &content[header + len..];
    }
    Ok(children)
}

/// (d, x, y) of a SEC1 ECPrivateKey for P-256.
fn sec1_components(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let children = der_children(der_content(der, 0x30)?)?;
    let d = children
        .iter()
        .find(|(tag, _)| *tag == 0x04)
        .ok_or_else(|| anyhow!("SEC1 key without privateKey"))?
        .1;
    let public = children
        .iter()
        .find(|(tag, _)| *tag == 0xa1)
        .ok_or_else(|| anyhow!("SEC1 key without publicKey"))?
        .1;
    let point = der_content(public, 0x03)?;
    ensure!(
        point.len() == 66 && point[0] == 0 && point[1] == 4,
        "expected an uncompressed P-256 point"
    );
    let mut d32 = vec![0u8; 32usize.saturating_sub(d.len())];
    d32.extend(d);
    Ok((d32, point[2..34].to_vec(), point[34..66].to_vec()))
}

// ---------------------------------------------------------------------------------------------
// PEM and base64 helpers.

/// (label, decoded body) of every PEM block in `text`; header lines (Proc-Type, DEK-Info) are
/// skipped.
fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines().map(str::trim_end) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        {
            current = Some((label.to_owned(), String::new()));
        } else if line.starts_with("-----END ") {
            if let Some((label, body)) = current.take()
                && let Ok(der) = STANDARD.decode(body)
            {
                blocks.push((label, der));
            }
        } else if let Some((_, body)) = current.as_mut()
            && !line.contains(':')
        {
            body.push_str(line.trim());
        }
    }
    blocks
}

fn single_pem_der(pem: &[u8], label: &str) -> Result<Vec<u8>> {
    pem_blocks(&String::from_utf8_lossy(pem))
        .into_iter()
        .find(|(l, _)| l == label)
        .map(|(_, der)| der)
        .ok_or_else(|| anyhow!("no {label} PEM block"))
}

/// `text` cut into lines of `width` characters, each ending with `eol`.
fn wrap(text: &str, width: usize, eol: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width * eol.len() + eol.len());
    for line in text.as_bytes().chunks(width) {
        out.push_str(std::str::from_utf8(line).expect("ASCII"));
        out.push_str(eol);
    }
    out
}

fn random_bytes(n: usize) -> Vec<u8> {
    use ring::rand::SecureRandom as _;
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system RNG works");
    bytes
}

/// A positive 127-bit serial number for `-set_serial` (no serial files to manage).
fn random_serial() -> String {
    let mut bytes = random_bytes(16);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x10;
    format!("0x{}", hex::encode(bytes))
}

/// Writes a file readable by its owner only (keys; also what ssh-keygen insists on).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot chmod {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Parallel jobs.

type Job<'a, T> = Box<dyn FnOnce() -> Result<T> + Send + 'a>;

/// Runs the jobs on a few threads (they mostly wait for tool processes); results keep the jobs'
/// order, and the first failing job's error (in that order) is returned.
fn run_parallel<T: Send>(jobs: Vec<Job<'_, T>>) -> Result<Vec<T>> {
    let count = jobs.len();
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get() * 2)
        .clamp(2, 16)
        .min(count.max(1));
    // Reversed so that `pop` hands the jobs out in their given order (slow ones first).
    let queue = Mutex::new(jobs.into_iter().enumerate().rev().collect::<Vec<_>>());
    let results: Mutex<Vec<Option<Result<T>>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().expect("queue lock").pop();
                    let Some((index, job)) = next else { break };
                    let result = job();
                    results.lock().expect("results lock")[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|result| result.expect("every job ran"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Secrets.

/// A candidate secret with a run of this many public bytes is rejected outright.
const GRAM: usize = 16;
/// Shorter public runs (DER headers, OIDs, parts of public keys) are discounted: what is left
/// must be enough random-looking bytes.
const SMALL_GRAM: usize = 6;
/// Length of a secret (decodes to 30 bytes).
const SECRET_CHARS: usize = 40;
/// Line length of base64 in [`mail_with_attachment`]; secrets from base64(bytes) never cross it.
const MAIL_B64_WIDTH: usize = 76;

/// The corpus' public material — certificates (and their SHA-1/SHA-256 fingerprints),
/// SubjectPublicKeyInfos, SSH public blobs — as sets of its GRAM- and SMALL_GRAM-byte windows.
#[derive(Default)]
struct PublicSet {
    grams: HashSet<[u8; GRAM]>,
    small_grams: HashSet<[u8; SMALL_GRAM]>,
}

impl PublicSet {
    fn add(&mut self, bytes: &[u8]) {
        for window in bytes.windows(GRAM) {
            self.grams
                .insert(window.try_into().expect("GRAM-sized window"));
        }
        for window in bytes.windows(SMALL_GRAM) {
            self.small_grams
                .insert(window.try_into().expect("SMALL_GRAM-sized window"));
        }
    }

    fn add_certificate(&mut self, der: &[u8]) {
        self.add(der);
        self.add(&Sha256::digest(der));
        self.add(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref());
    }

    /// Collects the public parts of a fixture: its certificates and public keys, the public
    /// blob of SSH keys (clear text even in encrypted OpenSSH files, and PuTTY's Public-Lines).
    fn add_from_fixture(&mut self, fixture: &Fixture) -> Result<()> {
        if fixture.expect == Expect::Certificate && !fixture.bytes.starts_with(b"-----") {
            self.add_certificate(&fixture.bytes);
        }
        let Ok(text) = std::str::from_utf8(&fixture.bytes) else {
            return Ok(());
        };
        for (label, der) in pem_blocks(text) {
            match label.as_str() {
                "CERTIFICATE" => self.add_certificate(&der),
                "PUBLIC KEY" => self.add(&der),
                "OPENSSH PRIVATE KEY" => self.add(
                    &openssh_public_blob(&der)
                        .with_context(|| format!("fixture {}", fixture.id))?,
                ),
                _ => {}
            }
        }
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some(count) = line.strip_prefix("Public-Lines: ") {
                let count: usize = count.trim().parse().unwrap_or(0);
                let body: String = lines.by_ref().take(count).collect();
                if let Ok(blob) = STANDARD.decode(body) {
                    self.add(&blob);
                }
            } else if (line.starts_with("ssh-") || line.starts_with("ecdsa-"))
                && let Some(Ok(blob)) = line.split_whitespace().nth(1).map(|b| STANDARD.decode(b))
            {
                self.add(&blob);
            }
        }
        Ok(())
    }

    /// Whether decoded bytes make a good secret: no long public run in them, and once short
    /// public runs are discounted, at least `min_private` bytes that look random — mostly
    /// distinct, some with the high bit set (half of random bytes have it) — unlike boilerplate
    /// ("openssh-key-v1", lengths, a comment, padding 01 02 03 ...).
    fn is_secret(&self, decoded: &[u8], min_private: usize) -> bool {
        if decoded.windows(GRAM).any(|w| {
            self.grams
                .contains(&<[u8; GRAM]>::try_from(w).expect("GRAM-sized window"))
        }) {
            return false;
        }
        let mut public = vec![false; decoded.len()];
        for (i, w) in decoded.windows(SMALL_GRAM).enumerate() {
            if self
                .small_grams
                .contains(&<[u8; SMALL_GRAM]>::try_from(w).expect("SMALL_GRAM-sized window"))
            {
                public[i..i + SMALL_GRAM].fill(true);
            }
        }
        let private: Vec<u8> = decoded
            .iter()
            .zip(&public)
            .filter(|(_, public)| !**public)
            .map(|(b, _)| *b)
            .collect();
        let mut seen = [false; 256];
        for &b in &private {
            seen[usize::from(b)] = true;
        }
        let distinct = seen.iter().filter(|&&s| s).count();
        let high = private.iter().filter(|&&b| b >= 0x80).count();
        private.len() >= min_private
            && distinct * 5 >= private.len() * 4
            && high * 6 >= private.len()
    }
}

/// A run of base64 inside a text file, as one encoding (a PEM body, PuTTY's Private-Lines, a
/// JWK member), in segments (its lines) at known file offsets.
struct Block {
    text: String,
    url_safe: bool,
    segments: Vec<Segment>,
}

struct Segment {
    file_start: usize,
    block_start: usize,
    len: usize,
}

/// The base64 runs of a text file: consecutive lines made only of base64 characters, or for a
/// JWK the private members' values.
fn text_blocks(text: &str) -> Vec<Block> {
    if let Ok(serde_json::Value::Object(members)) = serde_json::from_str(text) {
        return ["d", "p", "q", "dp", "dq", "qi"]
            .iter()
            .filter_map(|name| members.get(*name)?.as_str())
            .filter_map(|value| {
                Some(Block {
                    text: value.to_owned(),
                    url_safe: true,
                    segments: vec![Segment {
                        file_start: text.find(value)?,
                        block_start: 0,
                        len: value.len(),
                    }],
                })
            })
            .collect();
    }
    let is_b64_line = |line: &str| {
        line.len() >= 4
            && line
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
    };
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        if is_b64_line(line) {
            let block = current.get_or_insert_with(|| Block {
                text: String::new(),
                url_safe: false,
                segments: Vec::new(),
            });
            block.segments.push(Segment {
                file_start: offset,
                block_start: block.text.len(),
                len: line.len(),
            });
            block.text.push_str(line);
        } else if let Some(block) = current.take() {
            blocks.push(block);
        }
        offset += raw.len();
    }
    blocks.extend(current);
    blocks
}

fn is_text(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t')
}

/// `count` candidates spread evenly over the list (far-apart windows of the key).
fn spread(candidates: Vec<String>, count: usize) -> Vec<String> {
    if candidates.len() <= count {
        return candidates;
    }
    (0..count)
        .map(|i| candidates[(2 * i + 1) * candidates.len() / (2 * count)].clone())
        .collect()
}

/// The secrets of a key-holding file (see the module docs for the rules).
fn secrets_for(bytes: &[u8], public: &PublicSet) -> Vec<String> {
    let encoded = STANDARD.encode(bytes);
    // 4-aligned runs of base64(bytes) within one mail line: (run, file offset of its bytes).
    let mail_runs = (0..encoded.len())
        .step_by(4)
        .filter(|p| p % MAIL_B64_WIDTH + SECRET_CHARS <= MAIL_B64_WIDTH)
        .filter(|p| p + SECRET_CHARS <= encoded.len() && p / 4 * 3 + 30 <= bytes.len())
        .map(|p| (&encoded[p..p + SECRET_CHARS], p / 4 * 3));
    let mut secrets = Vec::new();
    if !is_text(bytes) {
        let candidates = mail_runs
            .filter(|&(_, start)| public.is_secret(&bytes[start..start + 30], 12))
            .map(|(run, _)| run.to_owned())
            .collect();
        secrets.extend(spread(candidates, 4));
    } else {
        let text = std::str::from_utf8(bytes).expect("checked ASCII");
        let blocks = text_blocks(text);
        let decode = |block: &Block, run: &str| {
            if block.url_safe {
                URL_SAFE_NO_PAD.decode(run).ok()
            } else {
                STANDARD.decode(run).ok()
            }
        };
        // Runs of the key's own base64, 4-aligned in its encoding and within one line.
        let mut candidates = Vec::new();
        for block in &blocks {
            for segment in &block.segments {
                let end = segment.block_start + segment.len;
                let mut p = segment.block_start.next_multiple_of(4);
                while p + SECRET_CHARS <= end {
                    let run = &block.text[p..p + SECRET_CHARS];
                    // In a JWK only runs spelled the same in both alphabets.
                    let same_in_standard = !run.contains(['-', '_']);
                    if same_in_standard
                        && decode(block, run).is_some_and(|d| public.is_secret(&d, 12))
                    {
                        candidates.push(run.to_owned());
                    }
                    p += 4;
                }
            }
        }
        secrets.extend(spread(candidates, 3));
        // Runs of base64(bytes) whose 30 text characters lie within one line of a block: judge
        // them by the 18 bytes that the aligned middle of those characters encodes.
        let mut candidates = Vec::new();
        for (run, start) in mail_runs {
            let inside = blocks.iter().find_map(|block| {
                block
                    .segments
                    .iter()
                    .find(|s| s.file_start <= start && start + 30 <= s.file_start + s.len)
                    .map(|s| (block, s))
            });
            let Some((block, segment)) = inside else {
                continue;
            };
            let aligned = (segment.block_start + start - segment.file_start).next_multiple_of(4);
            if decode(block, &block.text[aligned..aligned + 24])
                .is_some_and(|d| public.is_secret(&d, 9))
            {
                candidates.push(run.to_owned());
            }
        }
        secrets.extend(spread(candidates, 2));
    }
    let mut seen = HashSet::new();
    secrets.retain(|s| seen.insert(s.clone()));
    secrets
}

// =============================================================================================
// Mails.

const MAIL_FROM: &str = "Ana Popescu <ana@primaria.md>";
const MAIL_TO: &str = "support.mpass@egov.md";
const SUBJECT: &str = "Certificat pentru integrarea MPass – Primăria Ialoveni";
const GREETING: &str = "Bună ziua,\n\nVă transmit certificatul pentru integrarea cu MPass.\n\n\
                        Cu stimă,\nAna Popescu\nPrimăria Ialoveni\n";

/// A complete mail with `f` as a base64 attachment (named `f.file_name`, typed
/// `f.content_type`) after a short text part.
pub fn mail_with_attachment(message_id: &str, f: &Fixture) -> Vec<u8> {
    let boundary = boundary(message_id, "att");
    let mut mail = mail_headers(message_id, SUBJECT);
    multipart_header(&mut mail, &boundary);
    greeting_part(&mut mail, &boundary, GREETING);
    attachment_part(
        &mut mail,
        &boundary,
        &f.file_name,
        &f.content_type,
        &f.bytes,
    );
    mail.push_str(&format!("--{boundary}--\r\n"));
    mail.into_bytes()
}

/// A complete mail with one `documente.zip` (application/zip) holding `files`; with `nested`
/// the zip holds `arhiva.zip`, which holds the files.
pub fn mail_with_zip(message_id: &str, files: &[&Fixture], nested: bool) -> Vec<u8> {
    let mut names = HashSet::new();
    let entries: Vec<(String, &[u8])> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            // Two fixtures may share a name ("certificat.cer"); a zip may not.
            let mut name = f.file_name.clone();
            if !names.insert(name.clone()) {
                name = format!("{}-{}", i + 1, f.file_name);
                names.insert(name.clone());
            }
            (name, f.bytes.as_slice())
        })
        .collect();
    let mut zip = build_zip(entries.iter().map(|(n, b)| (n.as_str(), *b)));
    if nested {
        zip = build_zip([("arhiva.zip", zip.as_slice())]);
    }
    let boundary = boundary(message_id, "zip");
    let mut mail = mail_headers(message_id, SUBJECT);
    multipart_header(&mut mail, &boundary);
    greeting_part(&mut mail, &boundary, GREETING);
    attachment_part(
        &mut mail,
        &boundary,
        "documente.zip",
        "application/zip",
        &zip,
    );
    mail.push_str(&format!("--{boundary}--\r\n"));
    mail.into_bytes()
}

/// A complete mail forwarding `inner` as a message/rfc822 attachment (`inner`'s bare LFs become
/// CRLF; it is sent 7bit or 8bit, never base64, as RFC 2046 requires).
pub fn forwarded_mail(message_id: &str, inner: &[u8]) -> Vec<u8> {
    let boundary = boundary(message_id, "fwd");
    let mut mail = mail_headers(message_id, &format!("Fwd: {SUBJECT}"));
    multipart_header(&mut mail, &boundary);
    greeting_part(
        &mut mail,
        &boundary,
        "Bună ziua,\n\nVă redirecționez mesajul colegei, cu certificatul atașat.\n\nAna\n",
    );
    let encoding = if inner.is_ascii() { "7bit" } else { "8bit" };
    mail.push_str(&format!(
        "--{boundary}\r\n\
         Content-Type: message/rfc822; name=\"mesaj_redirectionat.eml\"\r\n\
         Content-Disposition: attachment; filename=\"mesaj_redirectionat.eml\"\r\n\
         Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ));
    let mut bytes = mail.into_bytes();
    let mut inner = crlf(inner);
    if !inner.ends_with(b"\r\n") {
        inner.extend(b"\r\n");
    }
    bytes.extend(inner);
    bytes.extend(format!("--{boundary}--\r\n").bytes());
    bytes
}

/// A complete single-part text/plain mail whose body is `text` (e.g. a pasted PEM key) in
/// `charset`: "utf-8" and "koi8-r" and "iso-8859-2" go quoted-printable, "windows-1251" base64
/// (as Outlook sends it), "us-ascii" 7bit. The single-byte charsets map only ASCII and the
/// letters needed here (Russian Cyrillic; Romanian diacritics, with ș/ț written as ş/ţ since
/// ISO-8859-2 only has the cedilla forms); anything else panics.
pub fn mail_with_pasted_body(message_id: &str, text: &str, charset: &str) -> Vec<u8> {
    let charset = charset.to_ascii_lowercase();
    let encoded = crlf(&encode_charset(text, &charset));
    let (transfer_encoding, body) = match charset.as_str() {
        "windows-1251" => (
            "base64",
            wrap(&STANDARD.encode(&encoded), MAIL_B64_WIDTH, "\r\n"),
        ),
        "us-ascii" => ("7bit", String::from_utf8(encoded).expect("ASCII")),
        _ => ("quoted-printable", quoted_printable(&encoded)),
    };
    let mut mail = mail_headers(message_id, "Cheia pentru MPass");
    mail.push_str(&format!(
        "Content-Type: text/plain; charset=\"{charset}\"\r\n\
         Content-Transfer-Encoding: {transfer_encoding}\r\n\r\n{body}"
    ));
    if !mail.ends_with("\r\n") {
        mail.push_str("\r\n");
    }
    mail.into_bytes()
}

fn mail_headers(message_id: &str, subject: &str) -> String {
    let id = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    format!(
        "From: {MAIL_FROM}\r\n\
         To: {MAIL_TO}\r\n\
         Subject: {}\r\n\
         Date: {}\r\n\
         Message-ID: <{id}>\r\n\
         MIME-Version: 1.0\r\n",
        encoded_word(subject),
        chrono::Utc::now().to_rfc2822()
    )
}

fn multipart_header(mail: &mut String, boundary: &str) {
    mail.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
         This is a multi-part message in MIME format.\r\n"
    ));
}

fn greeting_part(mail: &mut String, boundary: &str, text: &str) {
    mail.push_str(&format!(
        "--{boundary}\r\n\
         Content-Type: text/plain; charset=\"utf-8\"\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n",
        quoted_printable(&crlf(text.as_bytes()))
    ));
}

fn attachment_part(
    mail: &mut String,
    boundary: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) {
    let (name_param, filename_param) = if name.is_ascii() {
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        (
            format!("name=\"{quoted}\""),
            format!("filename=\"{quoted}\""),
        )
    } else {
        // What Thunderbird writes: RFC 2231 for the disposition, an encoded word for the type.
        let percent: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        (
            format!("name=\"=?UTF-8?B?{}?=\"", STANDARD.encode(name)),
            format!("filename*=utf-8''{percent}"),
        )
    };
    mail.push_str(&format!(
        "--{boundary}\r\n\
         Content-Type: {content_type};\r\n {name_param}\r\n\
         Content-Disposition: attachment;\r\n {filename_param}\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}",
        wrap(&STANDARD.encode(bytes), MAIL_B64_WIDTH, "\r\n")
    ));
}

/// A boundary unique to the message (and the kind of mail), never found in base64 or QP text.
fn boundary(message_id: &str, kind: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\0{message_id}"));
    format!("=_egov_{kind}_{}", hex::encode(&digest[..12]))
}

/// `text` as RFC 2047 encoded words when it is not ASCII: words of at most 39 bytes of UTF-8
/// (64 characters encoded), so that they fit header lines, joined by folding whitespace.
fn encoded_word(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut chunks = vec![String::new()];
    for c in text.chars() {
        let last = chunks.last_mut().expect("never empty");
        if last.len() + c.len_utf8() > 39 {
            chunks.push(c.to_string());
        } else {
            last.push(c);
        }
    }
    chunks
        .iter()
        .map(|chunk| format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// Line ends normalised to CRLF.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Quoted-printable (RFC 2045) of CRLF text, lines at most 76 characters.
fn quoted_printable(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 11 / 10);
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    for (index, line) in lines.iter().enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut width = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let token =
                if (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=' {
                    char::from(b).to_string()
                } else {
                    format!("={b:02X}")
                };
            // Room for the soft break's "=" unless this is the line's last token.
            let limit = if last { 76 } else { 75 };
            if width + token.len() > limit {
                out.push_str("=\r\n");
                width = 0;
            }
            width += token.len();
            out.push_str(&token);
        }
        if index + 1 < lines.len() {
            out.push_str("\r\n");
        }
    }
    out
}

/// `text` in `charset`, with hand-made tables for the single-byte charsets (no encoding_rs).
fn encode_charset(text: &str, charset: &str) -> Vec<u8> {
    const KOI8_R_LOWER: &str = "юабцдефгхийклмнопярстужвьызшэщчъ";
    const KOI8_R_UPPER: &str = "ЮАБЦДЕФГХИЙКЛМНОПЯРСТУЖВЬЫЗШЭЩЧЪ";
    let single_byte = |c: char| -> Option<u8> {
        if c.is_ascii() {
            return Some(c as u8);
        }
        match charset {
            "windows-1251" => match c {
                'А'..='я' => Some((c as u32 - 'А' as u32 + 0xc0) as u8),
                'Ё' => Some(0xa8),
                'ё' => Some(0xb8),
                '«' => Some(0xab),
                '»' => Some(0xbb),
                '—' => Some(0x97),
                '№' => Some(0xb9),
                _ => None,
            },
            "koi8-r" => match c {
                'ё' => Some(0xa3),
                'Ё' => Some(0xb3),
                _ => KOI8_R_LOWER
                    .chars()
                    .position(|l| l == c)
                    .map(|i| 0xc0 + i as u8)
                    .or_else(|| {
                        KOI8_R_UPPER
                            .chars()
                            .position(|u| u == c)
                            .map(|i| 0xe0 + i as u8)
                    }),
            },
            "iso-8859-2" => match c {
                'ă' => Some(0xe3),
                'Ă' => Some(0xc3),
                'â' => Some(0xe2),
                'Â' => Some(0xc2),
                'î' => Some(0xee),
                'Î' => Some(0xce),
                'ș' | 'ş' => Some(0xba),
                'Ș' | 'Ş' => Some(0xaa),
                'ț' | 'ţ' => Some(0xfe),
                'Ț' | 'Ţ' => Some(0xde),
                _ => None,
            },
            _ => None,
        }
    };
    match charset {
        "utf-8" => text.as_bytes().to_vec(),
        "us-ascii" | "windows-1251" | "koi8-r" | "iso-8859-2" => text
            .chars()
            .map(|c| {
                single_byte(c)
                    .unwrap_or_else(|| panic!("character {c:?} has no mapping to {charset} here"))
            })
            .collect(),
        _ => panic!(
            "unsupported charset {charset:?}: use utf-8, windows-1251, koi8-r, iso-8859-2 or us-ascii"
        ),
    }
}

// =============================================================================================
// Zips.

/// A zip of the given (name, bytes) entries, deflated.
fn build_zip<'a>(entries: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (name, bytes) in entries {
        writer.start_file(name, options).expect("zip entry");
        writer.write_all(bytes).expect("zip data");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// Declared uncompressed size of [`zip_bomb`]'s single entry.
pub const ZIP_BOMB_SIZE: u64 = 1 << 30;

/// A zip whose single entry, "certificat.cer", inflates to 1 GiB of zeros from about 1 MiB.
///
/// Deflating a gibibyte takes over a second even at opt-level 1, so the stream is written by
/// hand (in milliseconds): one dynamic-Huffman block whose length code 285 (a 258-byte match)
/// and distance code 0 (distance 1) are one bit each, i.e. 2 bits per 258 zeros — the best
/// ratio deflate has. The CRC-32 of the zeros comes from the CRC's linearity, as in zlib's
/// crc32_combine, instead of a gibibyte of table look-ups.
pub fn zip_bomb() -> Vec<u8> {
    let data = deflate_zeros(ZIP_BOMB_SIZE);
    let crc = crc32_of_zeros(ZIP_BOMB_SIZE);
    single_entry_zip("certificat.cer", &data, crc, ZIP_BOMB_SIZE)
}

/// A zip with `n` tiny entries (`fisier-00001.txt`, ...), stored.
pub fn zip_many_entries(n: usize) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    for i in 1..=n {
        writer
            .start_file(format!("fisier-{i:05}.txt"), options)
            .expect("zip entry");
        writer
            .write_all(format!("{i}\n").as_bytes())
            .expect("zip data");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// `depth` zips inside each other (depth 1: a zip holding `innermost` under its file name;
/// each further level holds the previous one as `arhiva-<level>.zip`).
pub fn zip_nested(depth: usize, innermost: &Fixture) -> Vec<u8> {
    assert!(depth >= 1, "zip_nested needs depth >= 1");
    let mut zip = build_zip([(innermost.file_name.as_str(), innermost.bytes.as_slice())]);
    for level in 2..=depth {
        let name = format!("arhiva-{}.zip", level - 1);
        zip = build_zip([(name.as_str(), zip.as_slice())]);
    }
    zip
}

/// Bits, least significant first, as deflate packs them.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    /// `count` bits of `value`, LSB first (header fields, extra bits).
    fn bits(&mut self, value: u64, count: u32) {
        self.acc |= value << self.bits;
        self.bits += count;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    /// A Huffman code, which deflate packs MSB first.
    fn code(&mut self, code: u64, len: u32) {
        let reversed = code.reverse_bits() >> (64 - len);
        self.bits(reversed, len);
    }

    fn zero_bits(&mut self, mut count: u64) {
        while count > 0 && self.bits != 0 {
            self.bits(0, 1);
            count -= 1;
        }
        self.out.resize(self.out.len() + (count / 8) as usize, 0);
        self.bits(0, (count % 8) as u32);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A raw deflate stream of `n` zero bytes (see [`zip_bomb`]).
fn deflate_zeros(n: u64) -> Vec<u8> {
    assert!(n >= 1);
    let mut w = BitWriter::default();
    w.bits(1, 1); // BFINAL
    w.bits(2, 2); // BTYPE = dynamic Huffman
    w.bits(286 - 257, 5); // HLIT: literal/length codes 0..=285
    w.bits(0, 5); // HDIST: one distance code
    w.bits(18 - 4, 4); // HCLEN: code length code lengths up to symbol 1's slot
    // Code length code lengths in deflate's order 16,17,18,0,8,7,9,6,10,5,11,4,12,3,13,2,14,1:
    // symbol 18 (run of zeros) gets 1 bit, symbols 1 and 2 get 2 bits.
    for len in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        w.bits(len, 3);
    }
    // Canonical codes: CL 18 -> 0, CL 1 -> 10, CL 2 -> 11.
    let cl_one = |w: &mut BitWriter| w.code(0b10, 2);
    let cl_two = |w: &mut BitWriter| w.code(0b11, 2);
    let zeros = |w: &mut BitWriter, run: u64| {
        w.code(0, 1);
        w.bits(run - 11, 7);
    };
    // Literal/length code lengths: 0 -> 2, 1..=255 -> 0, 256 -> 2, 257..=284 -> 0, 285 -> 1;
    // then the single distance code 0 -> 1.
    cl_two(&mut w);
    zeros(&mut w, 138);
    zeros(&mut w, 117);
    cl_two(&mut w);
    zeros(&mut w, 28);
    cl_one(&mut w);
    cl_one(&mut w);
    // Canonical codes: 285 -> 0, literal 0 -> 10, end of block -> 11; distance 0 -> 0.
    let matches = (n - 1) / 258;
    let literals = n - matches * 258;
    for _ in 0..literals {
        w.code(0b10, 2);
    }
    // Each match is code 285 (no extra bits) plus distance code 0 (no extra bits): two 0 bits.
    w.zero_bits(2 * matches);
    w.code(0b11, 2);
    w.finish()
}

/// CRC-32 (IEEE, as zip uses) of `n` zero bytes: zero bytes act linearly on the CRC register,
/// so raise that operator to the power 8n by squaring.
fn crc32_of_zeros(n: u64) -> u32 {
    fn times(matrix: &[u32; 32], mut vector: u32) -> u32 {
        let mut sum = 0;
        let mut i = 0;
        while vector != 0 {
            if vector & 1 != 0 {
                sum ^= matrix[i];
            }
            vector >>= 1;
            i += 1;
        }
        sum
    }
    fn square(matrix: &[u32; 32]) -> [u32; 32] {
        std::array::from_fn(|i| times(matrix, matrix[i]))
    }
    // The operator for one zero bit: column i is the register after shifting in 0 with bit i set.
    let mut op: [u32; 32] =
        std::array::from_fn(|i| if i == 0 { 0xedb8_8320 } else { 1 << (i - 1) });
    let mut register = 0xffff_ffff_u32;
    let mut exponent = n * 8;
    while exponent > 0 {
        if exponent & 1 != 0 {
            register = times(&op, register);
        }
        op = square(&op);
        exponent >>= 1;
    }
    register ^ 0xffff_ffff
}

/// A zip archive with one deflated entry, written by hand (the zip crate would re-compress).
fn single_entry_zip(name: &str, data: &[u8], crc: u32, size: u64) -> Vec<u8> {
    let size = u32::try_from(size).expect("below 4 GiB: no zip64 needed");
    let compressed = u32::try_from(data.len()).expect("small");
    let name_len = u16::try_from(name.len()).expect("short name");
    // 2025-01-01 00:00 in MS-DOS format.
    let (time, date) = (0u16, ((2025 - 1980) << 9 | 1 << 5 | 1) as u16);
    let mut zip = Vec::with_capacity(data.len() + 200);
    let common = |out: &mut Vec<u8>| {
        out.extend(20u16.to_le_bytes()); // version needed: 2.0 (deflate)
        out.extend(0u16.to_le_bytes()); // flags
        out.extend(8u16.to_le_bytes()); // method: deflate
        out.extend(time.to_le_bytes());
        out.extend(date.to_le_bytes());
        out.extend(crc.to_le_bytes());
        out.extend(compressed.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(name_len.to_le_bytes());
        out.extend(0u16.to_le_bytes()); // extra field length
    };
    zip.extend(0x0403_4b50u32.to_le_bytes());
    common(&mut zip);
    zip.extend(name.as_bytes());
    zip.extend(data);
    let central = zip.len();
    zip.extend(0x0201_4b50u32.to_le_bytes());
    zip.extend((3u16 << 8 | 20).to_le_bytes()); // made by: Unix, 2.0
    common(&mut zip);
    zip.extend(0u16.to_le_bytes()); // comment length
    zip.extend(0u16.to_le_bytes()); // disk number
    zip.extend(0u16.to_le_bytes()); // internal attributes
    zip.extend((0o100644u32 << 16).to_le_bytes()); // external attributes: -rw-r--r--
    zip.extend(0u32.to_le_bytes()); // local header offset
    zip.extend(name.as_bytes());
    let central_len = zip.len() - central;
    zip.extend(0x0605_4b50u32.to_le_bytes());
    zip.extend(0u16.to_le_bytes()); // this disk
    zip.extend(0u16.to_le_bytes()); // disk with the central directory
    zip.extend(1u16.to_le_bytes()); // entries on this disk
    zip.extend(1u16.to_le_bytes()); // entries
    zip.extend(u32::try_from(central_len).expect("small").to_le_bytes());
    zip.extend(u32::try_from(central).expect("small").to_le_bytes());
    zip.extend(0u16.to_le_bytes()); // comment length
    zip
}
