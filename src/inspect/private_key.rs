//! Private keys in every form people mail them in: PKCS#8 (plain and
//! encrypted), PKCS#1, SEC1 and DSA (PEM or DER), legacy `Proc-Type`
//! encrypted PEM, PKCS#12, OpenSSH (including `sk-*`), PuTTY `.ppk` v2/v3,
//! the ssh.com format and private JWKs.
//!
//! For each we report what can be told without a password: the format, the
//! key type and size, whether it is encrypted, and the fingerprint of the
//! *public* half — the only thing about a leaked key that may be stored.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ber::{self, BIT_STRING, INTEGER, NULL, OCTET_STRING, OID, SEQUENCE, oid};

/// What is known about one private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyFacts {
    /// pkcs8, pkcs8_encrypted, pkcs1, sec1, dsa, pem_encrypted, pkcs12,
    /// openssh, putty_ppk, ssh2_sshcom, jwk.
    pub format: &'static str,
    /// rsa, ec-p256, ed25519, dsa, ssh-ed25519, sk-ssh-ed25519@openssh.com, …
    pub key_type: Option<String>,
    pub bits: Option<u32>,
    pub encrypted: bool,
    /// `sha256:<hex>` of the public key's SubjectPublicKeyInfo (compare it
    /// with a certificate's), `SHA256:<base64>` for SSH keys, or
    /// `jwk-sha256:<base64url>` (RFC 7638) for JWKs.
    pub fingerprint: Option<String>,
    /// PKCS#12 only: a key bag was seen in the unencrypted part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_bag: Option<bool>,
}

impl KeyFacts {
    /// A key of which nothing more is known.
    pub fn unknown() -> KeyFacts {
        KeyFacts::new("unknown")
    }

    fn new(format: &'static str) -> KeyFacts {
        KeyFacts {
            format,
            key_type: None,
            bits: None,
            encrypted: false,
            fingerprint: None,
            key_bag: None,
        }
    }

    /// A one-line description for notes and alerts, never the key.
    pub fn describe(&self) -> String {
        let mut s = self.format.to_string();
        if let Some(t) = &self.key_type {
            s.push(' ');
            s.push_str(t);
        }
        if let Some(b) = self.bits {
            s.push_str(&format!(" {b}"));
        }
        if self.encrypted {
            s.push_str(" (encrypted)");
        }
        if let Some(f) = &self.fingerprint {
            s.push_str(&format!(", public key {f}"));
        }
        s
    }
}

/// `sha256:<hex>` of a SubjectPublicKeyInfo.
pub fn spki_fingerprint(spki_der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(spki_der)))
}

fn spki(algorithm: &[u8], key_bits: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(key_bits);
    let alg = ber::der(SEQUENCE, algorithm);
    ber::der(SEQUENCE, &[alg, ber::der(BIT_STRING, &bits)].concat())
}

fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let alg = [ber::der(OID, oid::RSA_ENCRYPTION), ber::der(NULL, &[])].concat();
    let key = ber::der(
        SEQUENCE,
        &[ber::der(INTEGER, n), ber::der(INTEGER, e)].concat(),
    );
    spki(&alg, &key)
}

fn curve_name(curve_oid: &[u8]) -> (&'static str, u32) {
    match curve_oid {
        oid::P256 => ("ec-p256", 256),
        oid::P384 => ("ec-p384", 384),
        oid::P521 => ("ec-p521", 521),
        _ => ("ec", 0),
    }
}

/// Reads an RSAPrivateKey (PKCS#1) content: version 0 for two primes, 1
/// for multi-prime keys (`openssl genpkey -pkeyopt rsa_keygen_primes:3`),
/// which carry their extra primes in a trailing SEQUENCE.
fn pkcs1(content: &[u8]) -> Option<KeyFacts> {
    let ints: Vec<_> = ber::children(content).collect();
    if ints.len() < 9
        || ints.iter().take(9).any(|t| t.tag != INTEGER)
        || !matches!(ints[0].content, [0] | [1])
    {
        return None;
    }
    let mut k = KeyFacts::new("pkcs1");
    k.key_type = Some("rsa".into());
    k.bits = Some(ber::integer_bits(ints[1].content));
    k.fingerprint = Some(spki_fingerprint(&rsa_spki(
        ints[1].content,
        ints[2].content,
    )));
    Some(k)
}

/// Reads an ECPrivateKey (SEC1) content; `curve` from the outer algorithm if any.
fn sec1(content: &[u8], curve: Option<&[u8]>) -> Option<KeyFacts> {
    let items: Vec<_> = ber::children(content).collect();
    if items.len() < 2
        || items[0].tag != INTEGER
        || items[0].content != [1]
        || items[1].tag != OCTET_STRING
    {
        return None;
    }
    let mut curve = curve.map(<[u8]>::to_vec);
    let mut public = None;
    for t in &items[2..] {
        match t.tag {
            0xa0 => {
                curve = ber::read(t.content)
                    .filter(|(o, _)| o.tag == OID)
                    .map(|(o, _)| o.content.to_vec())
            }
            0xa1 => {
                public = ber::read(t.content)
                    .filter(|(b, _)| b.tag == BIT_STRING)
                    .map(|(b, _)| b.content.to_vec())
            }
            _ => {}
        }
    }
    let mut k = KeyFacts::new("sec1");
    let (name, bits) = curve.as_deref().map_or(("ec", 0), curve_name);
    k.key_type = Some(name.into());
    k.bits = (bits > 0).then_some(bits);
    if let (Some(c), Some(p)) = (&curve, &public) {
        let alg = [ber::der(OID, oid::EC_PUBLIC_KEY), ber::der(OID, c)].concat();
        // The BIT STRING content already starts with its unused-bits byte.
        let key = p.get(1..).unwrap_or_default();
        k.fingerprint = Some(spki_fingerprint(&spki(&alg, key)));
    }
    Some(k)
}

/// A DER private key of any unencrypted or PKCS#8-encrypted kind.
pub fn from_der(data: &[u8]) -> Option<KeyFacts> {
    let top = ber::read_whole(data)?;
    if top.tag != SEQUENCE {
        return None;
    }
    let items: Vec<_> = ber::children(top.content).collect();
    match items.as_slice() {
        // EncryptedPrivateKeyInfo: { AlgorithmIdentifier, OCTET STRING }
        [alg, enc] if alg.tag == SEQUENCE && enc.tag == OCTET_STRING => {
            let mut k = KeyFacts::new("pkcs8_encrypted");
            k.encrypted = true;
            Some(k)
        }
        // PrivateKeyInfo / OneAsymmetricKey: { INTEGER 0|1, AlgorithmIdentifier, OCTET STRING, ... }
        [v, alg, key, ..]
            if v.tag == INTEGER
                && (v.content == [0] || v.content == [1])
                && alg.tag == SEQUENCE
                && key.tag == OCTET_STRING =>
        {
            pkcs8(alg, key)
        }
        // RSAPrivateKey (PKCS#1), two-prime or multi-prime
        [v, n, ..]
            if v.tag == INTEGER
                && matches!(v.content, [0] | [1])
                && n.tag == INTEGER
                && items.len() >= 9 =>
        {
            pkcs1(top.content)
        }
        // DSA "traditional": { 0, p, q, g, y, x }
        [v, p, ..]
            if items.len() == 6
                && v.content == [0]
                && p.tag == INTEGER
                && items.iter().all(|t| t.tag == INTEGER) =>
        {
            let mut k = KeyFacts::new("dsa");
            k.key_type = Some("dsa".into());
            k.bits = Some(ber::integer_bits(p.content));
            Some(k)
        }
        // ECPrivateKey (SEC1)
        [v, d, ..] if v.tag == INTEGER && v.content == [1] && d.tag == OCTET_STRING => {
            sec1(top.content, None)
        }
        _ => None,
    }
}

/// PrivateKeyInfo (PKCS#8): the algorithm identifier says what the key is;
/// the key inside, in its own format, says the rest when it can be read.
fn pkcs8(alg: &ber::Tlv<'_>, key: &ber::Tlv<'_>) -> Option<KeyFacts> {
    let mut alg_items = ber::children(alg.content);
    let alg_oid = alg_items.next().filter(|t| t.tag == OID)?.content;
    let params = alg_items.next();
    let inner = ber::read(key.content).map(|(t, _)| t);
    let mut k = match alg_oid {
        oid::RSA_ENCRYPTION => inner
            .and_then(|t| pkcs1(t.content))
            .unwrap_or_else(|| KeyFacts::new("pkcs8")),
        oid::EC_PUBLIC_KEY => {
            let curve = params.filter(|p| p.tag == OID).map(|p| p.content);
            inner
                .and_then(|t| sec1(t.content, curve))
                .unwrap_or_else(|| KeyFacts::new("pkcs8"))
        }
        oid::ED25519 => pkcs8_ed25519(inner),
        oid::DSA => {
            let mut k = KeyFacts::new("pkcs8");
            k.key_type = Some("dsa".into());
            k.bits = params
                .and_then(|p| ber::children(p.content).next())
                .map(|p| ber::integer_bits(p.content));
            k
        }
        oid::ED448 | oid::X25519 => {
            let mut k = KeyFacts::new("pkcs8");
            k.key_type = Some(
                if alg_oid == oid::ED448 {
                    "ed448"
                } else {
                    "x25519"
                }
                .into(),
            );
            k
        }
        _ => KeyFacts::new("pkcs8"),
    };
    k.format = "pkcs8";
    Some(k)
}

/// An Ed25519 PKCS#8 key: its seed gives the public half, hence the
/// fingerprint to compare with a certificate's.
fn pkcs8_ed25519(inner: Option<ber::Tlv<'_>>) -> KeyFacts {
    let mut k = KeyFacts::new("pkcs8");
    k.key_type = Some("ed25519".into());
    k.bits = Some(256);
    if let Some(seed) = inner.filter(|t| t.tag == OCTET_STRING && t.content.len() == 32)
        && let Ok(pair) = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed.content)
    {
        use ring::signature::KeyPair as _;
        let alg = ber::der(OID, oid::ED25519);
        k.fingerprint = Some(spki_fingerprint(&spki(&alg, pair.public_key().as_ref())));
    }
    k
}

/// PKCS#12 / PFX: `{ INTEGER 3, ContentInfo, MacData? }`, BER allowed.
pub fn pkcs12(data: &[u8]) -> Option<KeyFacts> {
    let top = ber::read(data).map(|(t, _)| t)?;
    if top.tag != SEQUENCE {
        return None;
    }
    let mut items = ber::children(top.content);
    let version = items.next()?;
    let auth_safe = items.next()?;
    if version.tag != INTEGER || version.content != [3] || auth_safe.tag != SEQUENCE {
        return None;
    }
    let content_type = ber::children(auth_safe.content).next()?;
    if content_type.tag != OID
        || !(content_type.content == oid::PKCS7_DATA || content_type.content == oid::PKCS7_SIGNED)
    {
        return None;
    }
    let mut k = KeyFacts::new("pkcs12");
    let key_bag = ber::contains_oid(auth_safe.content, oid::SHROUDED_KEY_BAG)
        || ber::contains_oid(auth_safe.content, oid::KEY_BAG);
    k.key_bag = Some(key_bag);
    // Safe contents sealed with a password may hold the key unseen.
    k.encrypted = ber::contains_oid(auth_safe.content, oid::PKCS7_ENCRYPTED)
        || ber::contains_oid(auth_safe.content, oid::SHROUDED_KEY_BAG);
    Some(k)
}

/// A PEM block whose label ends in PRIVATE KEY. `der` is its decoded body
/// (garbage when the block is legacy-encrypted).
pub fn from_pem(label: &str, legacy_encrypted: bool, der: &[u8], text: &str) -> KeyFacts {
    if label == "OPENSSH PRIVATE KEY" {
        return openssh(text);
    }
    if legacy_encrypted {
        let mut k = KeyFacts::new("pem_encrypted");
        k.encrypted = true;
        k.key_type = match label {
            "RSA PRIVATE KEY" => Some("rsa".into()),
            "EC PRIVATE KEY" => Some("ec".into()),
            "DSA PRIVATE KEY" => Some("dsa".into()),
            _ => None,
        };
        return k;
    }
    if label == "ENCRYPTED PRIVATE KEY" {
        let mut k = from_der(der).unwrap_or_else(|| KeyFacts::new("pkcs8_encrypted"));
        k.encrypted = true;
        return k;
    }
    from_der(der).unwrap_or_else(|| {
        let mut k = KeyFacts::new("pem");
        k.key_type = label
            .strip_suffix(" PRIVATE KEY")
            .map(|t| t.to_ascii_lowercase())
            .filter(|t| !t.is_empty());
        k
    })
}

/// An OpenSSH private key (the public half is stored in clear, even when
/// the private half is encrypted).
pub fn openssh(pem_text: &str) -> KeyFacts {
    let mut k = KeyFacts::new("openssh");
    if let Ok(key) = ssh_key::PrivateKey::from_openssh(pem_text) {
        k.key_type = Some(key.algorithm().as_str().to_string());
        k.encrypted = key.is_encrypted();
        k.fingerprint = Some(
            key.public_key()
                .fingerprint(ssh_key::HashAlg::Sha256)
                .to_string(),
        );
        if let ssh_key::public::KeyData::Rsa(rsa) = key.public_key().key_data() {
            k.bits = Some(ber::integer_bits(rsa.n.as_bytes()));
        }
    }
    k
}

/// Keys in the text formats that are not PEM: PuTTY, ssh.com and JWK.
pub fn from_text(text: &str) -> Vec<KeyFacts> {
    let mut found = Vec::new();
    // `find` gives a character boundary, so `split_at` cannot panic.
    if let Some(start) = text.find("PuTTY-User-Key-File-") {
        found.push(putty(text.split_at(start).1));
    }
    if let Some(start) = text.find("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----") {
        found.push(sshcom(text.split_at(start).1));
    }
    found.extend(jwk_private_keys(text));
    found
}

fn putty(text: &str) -> KeyFacts {
    let mut k = KeyFacts::new("putty_ppk");
    let mut lines = text.lines();
    let mut public_b64 = String::new();
    while let Some(line) = lines.next() {
        if let Some(alg) = line
            .strip_prefix("PuTTY-User-Key-File-")
            .and_then(|r| r.split_once(':'))
            .map(|(_, a)| a.trim())
        {
            k.key_type = Some(alg.to_string());
        } else if let Some(enc) = line.strip_prefix("Encryption:") {
            k.encrypted = enc.trim() != "none";
        } else if let Some(n) = line.strip_prefix("Public-Lines:") {
            let n: usize = n.trim().parse().unwrap_or(0).min(64);
            for _ in 0..n {
                public_b64.push_str(lines.next().unwrap_or_default().trim());
            }
        }
    }
    if let Ok(blob) = STANDARD.decode(public_b64)
        && let Ok(public) = ssh_key::PublicKey::from_bytes(&blob)
    {
        k.fingerprint = Some(public.fingerprint(ssh_key::HashAlg::Sha256).to_string());
    }
    k
}

fn sshcom(text: &str) -> KeyFacts {
    let mut k = KeyFacts::new("ssh2_sshcom");
    let body = text.split("---- END SSH2").next().unwrap_or_default();
    let mut b64 = String::new();
    let mut continued = false;
    for line in body.lines().skip(1) {
        // Header lines ("Comment: …") may continue with a trailing backslash.
        if continued || line.contains(':') {
            continued = line.ends_with('\\');
            continue;
        }
        b64.push_str(line.trim());
    }
    k.encrypted = true;
    if let Ok(blob) = STANDARD.decode(b64) {
        // magic, total length, key type string, cipher string
        let read_string = |at: usize| -> Option<(String, usize)> {
            let len = u32::from_be_bytes(blob.get(at..at + 4)?.try_into().ok()?) as usize;
            let s = blob.get(at + 4..at + 4 + len)?;
            Some((String::from_utf8_lossy(s).into_owned(), at + 4 + len))
        };
        if blob.get(..4) == Some(&[0x3f, 0x6f, 0xf9, 0xeb])
            && let Some((key_type, next)) = read_string(8)
        {
            k.key_type = key_type.split('{').next().map(str::to_string);
            if let Some((cipher, _)) = read_string(next) {
                k.encrypted = cipher != "none";
            }
        }
    }
    k
}

/// The JSON objects holding a `"kty"` member anywhere in a text: each JWK
/// alone, inside a JWK Set or any other JSON, or pasted between words.
///
/// Bounded for hostile text: JSON is read into [`Pruned`] values (only JWK
/// members and the containers leading to them are kept, so memory does not
/// grow with the JSON around the keys); a "kty" inside a value already read
/// is not read again; and all parsing together reads at most a few times
/// the text.
fn jwk_objects(text: &str) -> Vec<serde_json::Value> {
    const MAX_FOUND: usize = 64;
    fn collect(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Object(map) => {
                if map.contains_key("kty") && out.len() < MAX_FOUND && !out.contains(v) {
                    out.push(v.clone());
                }
                map.values().for_each(|x| collect(x, out));
            }
            serde_json::Value::Array(list) => list.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    let mut budget = text.len().saturating_mul(4).max(1 << 20);
    let mut covered: Vec<(usize, usize)> = Vec::new();
    for (at, _) in text.match_indices("\"kty\"").take(32) {
        if covered.iter().any(|&(start, end)| start < at && at < end) {
            continue;
        }
        // The object holding "kty" may itself sit inside others: try the
        // nearest few openings, from the innermost out, until one reaches
        // past the member name (read whole, or broken past it).
        let before = text.get(..at).unwrap_or_default();
        for (open, _) in before.rmatch_indices('{').take(8) {
            if budget == 0 {
                return found;
            }
            let (value, read) = pruned_json(text.get(open..).unwrap_or_default());
            budget = budget.saturating_sub(read);
            if let Some(v) = &value {
                collect(v, &mut found);
            }
            if open + read > at + "\"kty\"".len() {
                if value.is_some() {
                    covered.push((open, open + read));
                }
                break;
            }
        }
    }
    found
}

/// JWK members read here (RFC 7517, 7518); the rest of an object is skipped.
const JWK_MEMBERS: &[&str] = &[
    "kty", "use", "alg", "kid", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k",
];

/// The first JSON value of `text`, pruned, and how many bytes were read to
/// get it or to find that it is broken.
fn pruned_json(text: &str) -> (Option<serde_json::Value>, usize) {
    let keep = std::cell::Cell::new(256usize);
    let mut de = serde_json::Deserializer::from_str(text);
    match serde::de::DeserializeSeed::deserialize(PrunedSeed(&keep), &mut de) {
        Ok(Pruned::Keys(v)) => (Some(v), json_end(text)),
        Ok(_) => (None, json_end(text)),
        Err(e) => (None, error_offset(text, e.line(), e.column())),
    }
}

/// Where the first JSON value of `text` ends (it is known to parse).
fn json_end(text: &str) -> usize {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    let _ = stream.next();
    stream.byte_offset()
}

/// Byte offset of serde_json's 1-based line and column.
fn error_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        n => text
            .match_indices('\n')
            .nth(n - 2)
            .map_or(text.len(), |(i, _)| i + 1),
    };
    (line_start + column).min(text.len())
}

/// A JSON value as far as JWK detection cares.
enum Pruned {
    Scalar(serde_json::Value),
    /// An object holding "kty", or a container leading to one.
    Keys(serde_json::Value),
    Nothing,
}

/// Reads a [`Pruned`] value; `keep` is how many more containers may be kept.
struct PrunedSeed<'a>(&'a std::cell::Cell<usize>);

impl<'de> serde::de::DeserializeSeed<'de> for PrunedSeed<'_> {
    type Value = Pruned;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Pruned, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for PrunedSeed<'_> {
    type Value = Pruned;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Pruned, E> {
        Ok(Pruned::Scalar(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Pruned, E> {
        Ok(Pruned::Scalar(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Pruned, E> {
        Ok(Pruned::Scalar(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Pruned, E> {
        Ok(Pruned::Scalar(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Pruned, E> {
        Ok(Pruned::Scalar(v.into()))
    }
    fn visit_unit<E>(self) -> Result<Pruned, E> {
        Ok(Pruned::Scalar(serde_json::Value::Null))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Pruned, A::Error> {
        let mut kept = Vec::new();
        while let Some(item) = seq.next_element_seed(PrunedSeed(self.0))? {
            if let Pruned::Keys(v) = item {
                kept.push(v);
            }
        }
        Ok(self.keep(serde_json::Value::Array(kept)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Pruned, A::Error> {
        let mut kept = serde_json::Map::new();
        let mut has_kty = false;
        while let Some(key) = map.next_key::<String>()? {
            has_kty |= key == "kty";
            match map.next_value_seed(PrunedSeed(self.0))? {
                Pruned::Scalar(v) if JWK_MEMBERS.contains(&key.as_str()) => {
                    kept.insert(key, v);
                }
                Pruned::Keys(v) => {
                    kept.insert(key, v);
                }
                _ if key == "kty" => {
                    kept.insert(key, serde_json::Value::Null);
                }
                _ => {}
            }
        }
        if has_kty {
            return Ok(self.keep(serde_json::Value::Object(kept)));
        }
        // Without "kty", only the members leading to one matter.
        kept.retain(|_, v| v.is_object() || v.is_array());
        Ok(self.keep(serde_json::Value::Object(kept)))
    }
}

impl PrunedSeed<'_> {
    /// `value` as a container worth keeping: it holds "kty" or leads to
    /// one, and the allowance of kept containers is not used up.
    fn keep(&self, value: serde_json::Value) -> Pruned {
        let leads = match &value {
            serde_json::Value::Object(map) => !map.is_empty(),
            serde_json::Value::Array(list) => !list.is_empty(),
            _ => false,
        };
        if !leads || self.0.get() == 0 {
            return Pruned::Nothing;
        }
        self.0.set(self.0.get() - 1);
        Pruned::Keys(value)
    }
}

/// Private JWKs (objects with `kty` and `d`), alone or in a JWK Set.
fn jwk_private_keys(text: &str) -> Vec<KeyFacts> {
    jwk_objects(text)
        .iter()
        .filter(|k| k.get("d").is_some())
        .map(|k| {
            let mut f = KeyFacts::new("jwk");
            let kty = k["kty"].as_str().unwrap_or_default();
            f.key_type = Some(match k.get("crv").and_then(|c| c.as_str()) {
                Some(crv) => format!("{}-{}", kty.to_ascii_lowercase(), crv.to_ascii_lowercase()),
                None => kty.to_ascii_lowercase(),
            });
            if kty == "RSA"
                && let Some(n) = k.get("n").and_then(|n| n.as_str())
                && let Ok(bytes) = URL_SAFE_NO_PAD.decode(n)
            {
                f.bits = Some(ber::integer_bits(&bytes));
            }
            f.fingerprint = jwk_thumbprint(k);
            f
        })
        .collect()
}

/// `true` when the text holds JWKs and none of them has a private member.
pub fn is_public_jwk(text: &str) -> bool {
    let keys = jwk_objects(text);
    !keys.is_empty() && keys.iter().all(|k| k.get("d").is_none())
}

/// RFC 7638 thumbprint over the required public members.
fn jwk_thumbprint(k: &serde_json::Value) -> Option<String> {
    let members: &[&str] = match k.get("kty")?.as_str()? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        let v = k.get(*m)?.as_str()?;
        canonical.push_str(&format!(
            "{}:{}",
            serde_json::to_string(m).ok()?,
            serde_json::to_string(v).ok()?
        ));
    }
    canonical.push('}');
    Some(format!(
        "jwk-sha256:{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_spki_matches_a_known_encoding() {
        // SPKI of n = 0x00c5 (toy), e = 65537: structure only.
        let spki = rsa_spki(&[0x00, 0xc5], &[0x01, 0x00, 0x01]);
        let (top, rest) = ber::read(&spki).unwrap();
        assert!(rest.is_empty());
        assert_eq!(top.tag, SEQUENCE);
        assert_eq!(ber::children(top.content).count(), 2);
    }

    #[test]
    fn jwk_thumbprint_matches_rfc7638_example() {
        let k: serde_json::Value = serde_json::from_str(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29","d":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk_thumbprint(&k).unwrap(),
            "jwk-sha256:NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let found = jwk_private_keys(&k.to_string());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bits, Some(2048));
        assert!(!is_public_jwk(&k.to_string()));
        assert!(is_public_jwk(
            r#"{"kty":"EC","crv":"P-256","x":"a","y":"b"}"#
        ));
    }

    #[test]
    fn garbage_is_not_a_key() {
        for data in [
            &b""[..],
            b"\x30\x00",
            b"\x30\x03\x02\x01\x00",
            &[0x30, 0x80, 0x30, 0x80][..],
        ] {
            assert!(from_der(data).is_none(), "{data:?}");
            assert!(pkcs12(data).is_none(), "{data:?}");
        }
        assert!(from_text("hello { \"kty\": broken").is_empty());
        let k =
            putty("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 99999\n");
        assert_eq!(k.key_type.as_deref(), Some("ssh-ed25519"));
        assert!(!k.encrypted);
    }

    /// JWKs nested twenty deep around a 1M-element array: each is read
    /// once, and what is kept of the array is nothing.
    #[test]
    fn jwks_around_a_huge_array_are_read_once() {
        let mut text = String::new();
        for _ in 0..20 {
            text.push_str(r#"{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c","n":"#);
        }
        text.push('[');
        text.push_str(&vec!["0"; 1_000_000].join(","));
        text.push(']');
        text.push_str(&"}".repeat(20));
        let found = jwk_objects(&text);
        assert_eq!(found.len(), 20);
        assert!(found.iter().all(|k| k["d"] == "c"));
        let keys = jwk_private_keys(&text);
        assert_eq!(keys.len(), 20);
        assert!(
            keys.iter()
                .all(|k| k.key_type.as_deref() == Some("ec-p-256"))
        );
        // A broken object around a good key, and a "kty" in a string first.
        let broken = r#"{"a":"{", "kty":"oct", "inner": {"kty":"RSA","d":"x"}, !!!"#;
        let found = jwk_objects(broken);
        assert!(
            found.iter().any(|k| k["kty"] == "RSA" && k["d"] == "x"),
            "{found:?}"
        );
    }
}
