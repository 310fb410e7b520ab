//! Tests of the inspect stage: files classified by their bytes whatever
//! they are called, keys pasted in a body (quoted too), UTF-16 text.

use super::*;

fn kind_of(data: &[u8]) -> (Kind, bool) {
    let r = inspect_file("f", data, &Settings::at(chrono::Utc::now()));
    (r.kind, r.contains_private_key)
}

#[test]
fn classify_by_content_not_by_label() {
    let pem_key = b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
    let pem_rsa = b"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";
    let legacy = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    let ppk = b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n";
    let sshcom = b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nAAAA\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n";
    let jwk = br#"{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}"#;
    // PKCS#12 skeleton: SEQ { INT 3, SEQ { OID data } }, DER and BER.
    let mut pfx = vec![0x30, 0x10, 0x02, 0x01, 0x03, 0x30, 0x0b, 0x06, 0x09];
    pfx.extend_from_slice(ber::oid::PKCS7_DATA);
    let mut pfx_ber = vec![0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80, 0x06, 0x09];
    pfx_ber.extend_from_slice(ber::oid::PKCS7_DATA);
    pfx_ber.extend_from_slice(&[0, 0, 0, 0]);
    // PKCS#8: SEQ { INT 0, SEQ { OID rsaEncryption }, OCTET STRING {} }
    let mut pkcs8 = vec![0x30, 0x12, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09];
    pkcs8.extend_from_slice(ber::oid::RSA_ENCRYPTION);
    pkcs8.extend_from_slice(&[0x04, 0x00]);
    for (data, want) in [
        (&pem_key[..], (Kind::PrivateKey, true)),
        (&pem_rsa[..], (Kind::PrivateKey, true)),
        (&legacy[..], (Kind::PrivateKey, true)),
        (&ppk[..], (Kind::PrivateKey, true)),
        (&sshcom[..], (Kind::PrivateKey, true)),
        (&jwk[..], (Kind::PrivateKey, true)),
        (&pfx[..], (Kind::Pkcs12, true)),
        (&pfx_ber[..], (Kind::Pkcs12, true)),
        (&pkcs8[..], (Kind::PrivateKey, true)),
        (b"%PDF-1.7\nplain", (Kind::Document, false)),
        (b"hello", (Kind::Other, false)),
        (&[0x30, 0x82, 0xff, 0xff][..], (Kind::Other, false)),
        (
            br#"{"kty":"EC","crv":"P-256","x":"a","y":"b"}"#,
            (Kind::PublicKey, false),
        ),
    ] {
        assert_eq!(kind_of(data), want, "{}", String::from_utf8_lossy(data));
    }
}

#[test]
fn key_pasted_in_body_is_found_even_quoted() {
    let raw = b"From: a@b.md\r\nSubject: key\r\n\r\nHere:\r\n> -----BEGIN EC PRIVATE KEY-----\r\n> MHcC\r\n> -----END EC PRIVATE KEY-----\r\n";
    let mail = crate::parse::parse(raw, 10);
    let i = inspect(&mail, &Settings::at(chrono::Utc::now()));
    assert!(i.body.contains_private_key && i.private_key_found);
    assert_eq!(i.keys()[0].0, "body");
}

#[test]
fn utf16_text_is_read() {
    let text = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
    let mut data = vec![0xff, 0xfe];
    data.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    assert_eq!(kind_of(&data), (Kind::PrivateKey, true));
}
