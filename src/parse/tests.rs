//! Tests of the parse stage: headers and addresses, HTML bodies as text,
//! the content hash, flattened parts, and hostile mail flagged, not fatal.

use super::*;

const SIMPLE: &[u8] = b"From: Ana Popescu <ana@primaria.md>\r\n\
To: office@egov.md\r\n\
Subject: Solicitare de integrare MPass\r\n\
Message-ID: <abc@primaria.md>\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0200\r\n\
\r\n\
Buna ziua,\r\nSolicitam integrarea.\r\n";

#[test]
fn html_tables_keep_their_cells() {
    let t = html_lines(
        "<html><head><style>p {x}</style></head><body><p>Dear&nbsp;colleagues,</p><table><tr><td>Company name</td><td>FinTech &amp; Co SRL</td></tr><tr><td>IDNO</td><td>1008600038413</td></tr></table></body></html>",
    );
    assert!(t.contains("Company name | FinTech & Co SRL"), "{t}");
    assert!(t.contains("IDNO | 1008600038413"), "{t}");
    assert!(t.contains("Dear colleagues,") && !t.contains("{x}"), "{t}");
}

#[test]
fn simple_mail() {
    let m = parse(SIMPLE, 20);
    assert_eq!(m.subject, "Solicitare de integrare MPass");
    assert_eq!(m.message_id.as_deref(), Some("<abc@primaria.md>"));
    assert_eq!(m.from.as_ref().unwrap().address, "ana@primaria.md");
    assert_eq!(
        m.from.as_ref().unwrap().name.as_deref(),
        Some("Ana Popescu")
    );
    assert!(m.text.contains("Solicitam integrarea"));
    assert!(m.parts.is_empty());
    assert!(m.flags.is_empty(), "{:?}", m.flags);
}

#[test]
fn trace_headers_do_not_change_the_hash() {
    let mut delivered = b"Return-Path: <ana@primaria.md>\r\nDelivered-To: support.mpass@egov.md\r\nReceived: from x by y; Tue, 24 Nov 2026 10:00:01 +0200\r\n".to_vec();
    delivered.extend_from_slice(SIMPLE);
    assert_eq!(content_hash(SIMPLE), content_hash(&delivered));
    let lf: Vec<u8> = SIMPLE.iter().copied().filter(|b| *b != b'\r').collect();
    assert_eq!(content_hash(SIMPLE), content_hash(&lf));
    let other = String::from_utf8_lossy(SIMPLE).replace("integrarea", "integrare");
    assert_ne!(content_hash(SIMPLE), content_hash(other.as_bytes()));
}

#[test]
fn garbage_is_flagged_not_fatal() {
    for raw in [
        &b""[..],
        b"\x00\x01\x02 not a mail",
        b"\r\n\r\n",
        &[0xff; 300],
    ] {
        let m = parse(raw, 20);
        assert!(m.flags.contains(&Flag::NoFrom), "{raw:?} {:?}", m.flags);
    }
}

#[test]
fn bidirectional_controls_do_not_survive() {
    for c in [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
    ] {
        assert_eq!(clean_line(&format!("factura{c}txt.exe")), "factura txt.exe");
    }
    assert_eq!(clean_line("Cerere\u{2066}Bălți\u{2069}"), "Cerere Bălți");
}

#[test]
fn subject_cannot_carry_header_injection() {
    let raw = b"From: a@b.md\r\nSubject: =?utf-8?q?hi=0D=0ABcc:_victim@x.md?=\r\n\r\nbody\r\n";
    let m = parse(raw, 20);
    assert!(
        !m.subject.contains('\n') && !m.subject.contains('\r'),
        "{:?}",
        m.subject
    );
}

#[test]
fn attachments_and_forwarded_mail_are_flattened() {
    let raw = b"From: a@b.md\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"X\"\r\n\r\n\
--X\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\n\xcf\xf0\xe8\xe2\xe5\xf2\r\n\
--X\r\nContent-Type: application/octet-stream; name=\"cert.cer\"\r\nContent-Disposition: attachment; filename=\"cert.cer\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n\
--X\r\nContent-Type: message/rfc822\r\n\r\n\
From: c@d.md\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=\"Y\"\r\n\r\n\
--Y\r\nContent-Type: text/plain\r\n\r\ninner text\r\n\
--Y\r\nContent-Type: application/pdf; name=\"acord.pdf\"\r\n\r\n%PDF-1.4\r\n\
--Y--\r\n\
--X--\r\n";
    let m = parse(raw, 20);
    assert_eq!(m.text.trim(), "Привет");
    let names: Vec<_> = m
        .parts
        .iter()
        .map(|p| (p.location.as_str(), p.name.as_deref()))
        .collect();
    assert!(names.contains(&("2", Some("cert.cer"))), "{names:?}");
    let cert = m.parts.iter().find(|p| p.location == "2").unwrap();
    assert_eq!(cert.data, vec![0, 1, 2]);
    assert!(
        m.parts.iter().any(|p| p.content_type == "message/rfc822"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|(_, n)| *n == Some("acord.pdf")),
        "{names:?}"
    );
}

#[test]
fn nesting_is_bounded() {
    let depth = 40;
    let mut raw = String::new();
    for i in 0..depth {
        raw.push_str(&format!(
            "From: a@b.md\r\nSubject: level {i}\r\nContent-Type: message/rfc822\r\n\r\n"
        ));
    }
    raw.push_str("From: a@b.md\r\nSubject: core\r\n\r\ncore\r\n");
    let m = parse(raw.as_bytes(), 5);
    assert!(m.flags.contains(&Flag::NestingLimit), "{:?}", m.flags);

    let mut hostile = String::from("From: a@b.md\r\nSubject: bomb\r\n");
    for _ in 0..(HARD_CONTAINER_BOUND + 1) {
        hostile.push_str("Content-Type: message/rfc822\r\n\r\n");
    }
    let m = parse(hostile.as_bytes(), 5);
    assert!(m.flags.contains(&Flag::NestingLimit));
    assert_eq!(m.subject, "bomb");
}

#[tokio::test]
async fn deep_nesting_off_thread_does_not_overflow() {
    let mut raw = String::new();
    for _ in 0..900 {
        raw.push_str("Content-Type: message/rfc822\r\n\r\n");
    }
    raw.push_str("From: a@b.md\r\n\r\nx\r\n");
    let raw = raw.into_bytes();
    let m = on_parser_thread(move || parse(&raw, 20)).await.unwrap();
    assert!(m.flags.contains(&Flag::NestingLimit));
}

/// 200,000 `<style>` blocks: each is skipped by searching on from it,
/// not by lowercasing the rest of the document again.
#[test]
fn many_style_blocks_are_skipped_in_one_pass() {
    let mut html = "<STYLE>p{}</Style>".repeat(200_000);
    html.push_str("<p>Denumirea: Primăria Bălți</p><script>x</SCRIPT>");
    assert_eq!(html_lines(&html).trim(), "Denumirea: Primăria Bălți");
    assert_eq!(html_lines("a<style>never closed"), "a");
    // Outlook's table cells, each text in its own paragraph.
    assert_eq!(
        html_lines("<table><tr><td><p>RO<o:p></o:p></p></td><td><p>Semnarea</p><p>actelor</p></td></tr><tr><td><p>RU</p></td><td>Подписание</td></tr></table>").trim(),
        "RO | Semnarea actelor\nRU | Подписание"
    );
    // Outlook's numeric and Gmail's named entities, decoded once.
    assert_eq!(
        html_lines(
            "V&#259; rug&#259;m: sistemul &#171;e-Registru&#187;&nbsp;&laquo;x&raquo; &amp;#259; &#x219;"
        ),
        "Vă rugăm: sistemul «e-Registru» «x» &#259; ș"
    );
    assert_eq!(html_lines("x < y"), "x < y");
}
