//! Table tests for the attachment readers: plain text in every code page,
//! DOCX and ODF packages, PDF text, and hostile or truncated input.

use super::*;
use std::io::{Cursor, Write};

fn encode(encoding: &'static encoding_rs::Encoding, s: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(s);
    assert!(!unmappable, "{s} in {}", encoding.name());
    bytes.into_owned()
}

fn utf16(s: &str, le: bool) -> Vec<u8> {
    let mut out = if le {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in s.encode_utf16() {
        out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

/// Deterministic pseudo-random bytes (64-bit LCG).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const ROMANIAN: &str = "Solicitare de conectare la serviciul MSign.\nInstituţia: Primăria oraşului Ialoveni, înregistrată în Ţara noastră.\nÎntrebări: Ştefan.";
const RUSSIAN: &str = "Просим подключить наше учреждение к сервису MPass.\nНаименование: Примэрия города Яловень, IDNO 1007601000099.\nКонтактное лицо: Иванов Пётр.";
const RUSSIAN_CAPS: &str = "ЗАЯВКА НА ПОДКЛЮЧЕНИЕ К СЕРВИСУ ЭЛЕКТРОННОЙ ПОДПИСИ";

#[test]
fn plain_text() {
    let utf8 = "Denumirea instituției: Primăria Ialoveni\r\nIDNO: 1007601000099\r\n";
    let utf8_want = "Denumirea instituției: Primăria Ialoveni\nIDNO: 1007601000099";
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(utf8.as_bytes());
    // what, name, content type, data, expected text
    type Case<'a> = (&'a str, Option<&'a str>, &'a str, Vec<u8>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "utf-8",
            Some("cerere.txt"),
            "text/plain",
            utf8.into(),
            Some(utf8_want),
        ),
        (
            "utf-8 bom",
            None,
            "application/octet-stream",
            bom.clone(),
            Some(utf8_want),
        ),
        (
            "bom beats name",
            Some("x.html"),
            "text/html",
            bom,
            Some(utf8_want),
        ),
        (
            "utf-16le",
            Some("a.txt"),
            "",
            utf16(utf8, true),
            Some(utf8_want),
        ),
        ("utf-16be", None, "", utf16(utf8, false), Some(utf8_want)),
        (
            "1251",
            Some("cerere.txt"),
            "text/plain",
            encode(encoding_rs::WINDOWS_1251, RUSSIAN),
            Some(RUSSIAN),
        ),
        (
            "koi8-r",
            Some("cerere.txt"),
            "",
            encode(encoding_rs::KOI8_R, RUSSIAN),
            Some(RUSSIAN),
        ),
        (
            "1251 caps",
            None,
            "text/plain",
            encode(encoding_rs::WINDOWS_1251, RUSSIAN_CAPS),
            Some(RUSSIAN_CAPS),
        ),
        (
            "koi8-r caps",
            None,
            "text/plain",
            encode(encoding_rs::KOI8_R, RUSSIAN_CAPS),
            Some(RUSSIAN_CAPS),
        ),
        (
            "1250",
            Some("cerere.TXT"),
            "application/octet-stream",
            encode(encoding_rs::WINDOWS_1250, ROMANIAN),
            Some(ROMANIAN),
        ),
        (
            "no name, no type",
            None,
            "",
            b"IDNO 1007601000099".to_vec(),
            Some("IDNO 1007601000099"),
        ),
        (
            "other extension",
            Some("pagina.html"),
            "text/html",
            b"<p>x</p>".to_vec(),
            None,
        ),
        (
            "other type",
            None,
            "text/calendar",
            b"BEGIN:VCALENDAR".to_vec(),
            None,
        ),
        (
            "NUL bytes",
            Some("a.txt"),
            "text/plain",
            b"abc\0def".to_vec(),
            None,
        ),
        (
            "control bytes",
            Some("a.txt"),
            "text/plain",
            b"ab\x01\x02\x03\x04cd".to_vec(),
            None,
        ),
        (
            "utf-16 binary",
            None,
            "",
            b"\xFF\xFE\0\0\0\0".to_vec(),
            None,
        ),
        ("random", Some("a.txt"), "text/plain", noise(7, 4096), None),
        ("empty", Some("a.txt"), "text/plain", Vec::new(), None),
        (
            "blank",
            Some("a.txt"),
            "text/plain",
            b" \r\n\t\n".to_vec(),
            None,
        ),
    ];
    for (what, name, ct, data, want) in cases {
        assert_eq!(text_of(name, ct, &data).as_deref(), want, "{what}");
    }
}

#[test]
fn iso_8859_2_romanian_reads_like_1250() {
    // ISO-8859-2 puts ă â î ş ţ (and capitals) where windows-1250 does.
    let bytes = b"Institu\xfeia: Prim\xe3ria ora\xbaului, \xeen \xdeara";
    assert_eq!(
        text_of(Some("a.txt"), "text/plain", bytes).as_deref(),
        Some("Instituţia: Primăria oraşului, în Ţara")
    );
}

/// A byte windows-1250 or windows-1251 leaves undefined is not read as
/// a control character.
#[test]
fn undefined_code_page_bytes_read_as_replacement() {
    let bytes = b"\xc7\xe0\xff\xe2\xea\xe0 \x98 \xf3\xf7\xf0\xe5\xe6\xe4\xe5\xed\xe8\xff";
    assert_eq!(
        text_of(Some("a.txt"), "text/plain", bytes).as_deref(),
        Some("Заявка \u{fffd} учреждения")
    );
}

const DOCX_BODY: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Cerere de conectare la </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>MPass &amp; MSign</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Instituția: </w:t></w:r><w:r><w:t>Primăria &lt;Ialoveni&gt; &#259;&#x219;&quot;&apos; &bogus; &#xD800;</w:t></w:r></w:p>
<w:p><w:r><w:t>Coloana</w:t><w:tab/><w:t>valoare</w:t><w:br/><w:t>rândul doi</w:t></w:r></w:p>
<w:p/>
<!-- a comment <w:t>not text</w:t> -->
<w:tbl><w:tblPr/><w:tr><w:tc><w:tcPr/><w:p><w:r><w:t>Denumirea instituției</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Primăria Ialoveni</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>IDNO</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>1007601</w:t></w:r><w:r><w:t>000099</w:t></w:r></w:p><w:p><w:r><w:t>(cod fiscal)</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>
<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>Casetă</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Casetă</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:del><w:r><w:delText>șters</w:delText><w:tab/></w:r></w:del><w:r><w:t><![CDATA[a < b]]></w:t></w:r></w:p>
<w:sectPr><w:pgSz w:w="11906"/></w:sectPr></w:body></w:document>"#;

const DOCX_WANT: &str = "Cerere de conectare la MPass & MSign\nInstituția: Primăria <Ialoveni> ăș\"' &bogus; \u{fffd}\nColoana\tvaloare\nrândul doi\n\nDenumirea instituției | Primăria Ialoveni\nIDNO | 1007601000099 (cod fiscal)\nCasetă\na < b";

fn docx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", DOCX_BODY.as_bytes()),
        (
            "word/footer1.xml",
            b"<w:ftr><w:p><w:r><w:t>Subsol</w:t></w:r></w:p></w:ftr>",
        ),
    ])
}

const ODT_CONTENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.3">
<office:automatic-styles><style:style style:name="P1"><text:p>stil</text:p></style:style></office:automatic-styles>
<office:body><office:text>
<text:h text:outline-level="1">Cerere de conectare</text:h>
<text:p text:style-name="P1">Instituția:<text:s/>Primăria   Ialoveni,
   raionul <text:span text:style-name="T1">Ialoveni</text:span><text:s text:c="3"/>&amp; anexă<text:tab/>MSign<text:line-break/>a doua linie</text:p>
<text:p><office:annotation><dc:creator>X</dc:creator><text:p>comentariu</text:p></office:annotation>Fără comentarii<text:note><text:note-body><text:p>notă</text:p></text:note-body></text:note></text:p>
<text:p/>
<table:table table:name="T1"><table:table-column/><table:table-row><table:table-cell office:value-type="string"><text:p>Denumirea instituției</text:p></table:table-cell><table:table-cell><text:p>Primăria Ialoveni</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell><text:p>IDNO</text:p></table:table-cell><table:table-cell><text:p>1007601000099</text:p></table:table-cell><table:covered-table-cell/><table:table-cell table:number-columns-repeated="3"/></table:table-row></table:table>
</office:text></office:body></office:document-content>"#;

const ODT_WANT: &str = "Cerere de conectare\nInstituția: Primăria Ialoveni, raionul Ialoveni   & anexă\tMSign\na doua linie\nFără comentarii\n\nDenumirea instituției | Primăria Ialoveni\nIDNO | 1007601000099";

fn odt() -> Vec<u8> {
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", ODT_CONTENT.as_bytes()),
        ("styles.xml", b"<office:document-styles/>"),
    ])
}

#[test]
fn office_documents() {
    let renamed = {
        let body = DOCX_BODY.as_bytes();
        zip(&[
            (
                "_rels/.rels",
                br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/document2.xml"/></Relationships>"#,
            ),
            ("word/document2.xml", body),
        ])
    };
    let ods = zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
        (
            "content.xml",
            b"<office:document-content><office:body><office:spreadsheet><table:table><table:table-row><table:table-cell><text:p>IDNO</text:p></table:table-cell><table:table-cell office:value=\"1\"><text:p>1007601000099</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>",
        ),
    ]);
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("docx", docx(), Some(DOCX_WANT)),
        ("docx with renamed main part", renamed, Some(DOCX_WANT)),
        ("odt", odt(), Some(ODT_WANT)),
        ("ods", ods, Some("IDNO | 1007601000099")),
        ("other zip", zip(&[("a.txt", b"hello")]), None),
        (
            "other opendocument-like",
            zip(&[
                ("mimetype", b"application/epub+zip"),
                ("content.xml", b"<x/>"),
            ]),
            None,
        ),
    ];
    for (what, data, want) in cases {
        // The name and type must not matter for packages.
        assert_eq!(
            text_of(Some("x.bin"), "application/octet-stream", &data).as_deref(),
            want,
            "{what}"
        );
    }
}

#[test]
fn zip_limits() {
    // An honest 30 MiB entry is refused from its header.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("word/document.xml", options).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..30 {
        w.write_all(&zeros).unwrap();
    }
    let honest = w.finish().unwrap().into_inner();
    assert!(honest.len() < 1 << 20);
    assert_eq!(text_of(None, "", &honest), None);

    // The same entry claiming to be 1000 bytes: `take` stops the inflater.
    let mut lying = honest.clone();
    for (sig, offset) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
        let at = find(&lying, sig).unwrap() + offset;
        lying[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    }
    assert_eq!(text_of(None, "", &lying), None);
}

/// Writes a PDF with a correct xref; object `i + 1` is `objects[i]`.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(extra: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< /Length {} {extra} >>\nstream\n", data.len()).into_bytes();
    out.extend(data);
    out.extend(b"\nendstream");
    out
}

const PAGE_ONE: &[u8] =
    b"BT /F1 12 Tf 14 TL 72 760 Td [(Cerere de) -1000 (conectare \\(MPass\\))] TJ\n\
0 -14 Td (Denumirea institu) Tj /F2 12 Tf <0001> Tj /F1 12 Tf (iei) Tj\n\
200 0 Td (Prim) Tj /F2 12 Tf <0002> Tj /F1 12 Tf (ria Ialoveni) Tj\n\
/F3 12 Tf <00410042> Tj /F1 12 Tf\n\
-200 -14 Td (IDNO: 1007601000099) Tj\n\
T* (a\\(b\\)c) Tj (x\\051y) ' ( pe\\\ntrei \\342\\356 r\\342nduri) Tj\n\
T* /F2 12 Tf <0010001100120013> Tj ET\n\
BI /W 2 /H 2 /BPC 8 /CS /G ID \x00(\xff) Tj EI\n";

fn sample_pdf(page_one_length: Option<usize>) -> Vec<u8> {
    let mut page_one = stream("", PAGE_ONE);
    if let Some(len) = page_one_length {
        page_one = format!("<< /Length {len} >>\nstream\n").into_bytes();
        page_one.extend(PAGE_ONE);
        page_one.extend(b"\nendstream");
    }
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
2 beginbfchar <0001> <021B> <0002> <0103> endbfchar\n\
2 beginbfrange <0010> <0011> <0061> <0012> <0013> [<0078> <0079>] endbfrange\n\
endcmap CMapName currentdict /CMap defineresource pop end end";
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R 9 0 R] /Count 2 /Resources << /Font << /F1 6 0 R /F2 7 0 R /F3 8 0 R >> >> >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [4 0 R 5 0 R] >>".to_vec(),
        page_one,
        stream(
            "/Filter /FlateDecode",
            &deflate(b"BT /F1 12 Tf 1 0 0 1 72 600 Tm (Serviciul: MSign) Tj ET"),
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [10 0 R] /ToUnicode 11 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Y /Encoding /Identity-H /DescendantFonts [10 0 R] >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /Contents 12 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 500 >>".to_vec(),
        stream("", cmap),
        stream("/Filter [/FlateDecode]", &deflate(b"BT /F1 12 Tf 72 760 Td (Pagina 2) Tj ET")),
    ])
}

const PDF_WANT: &str = "Cerere de conectare (MPass)\nDenumirea instituției\tPrimăria Ialoveni\nIDNO: 1007601000099\na(b)c\nx)y petrei âî rânduri\nabxy\nServiciul: MSign\n\nPagina 2";

#[test]
fn pdf_text() {
    let truncated = {
        let full = sample_pdf(None);
        let at = find(&full, b"5 0 obj").unwrap();
        full[..at].to_vec()
    };
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("simple", sample_pdf(None), Some(PDF_WANT)),
        (
            "length past the end",
            sample_pdf(Some(999_999_999)),
            Some(PDF_WANT),
        ),
        ("wrong length", sample_pdf(Some(10)), Some(PDF_WANT)),
        (
            "encrypted",
            pdf(&[b"<< /Type /Catalog >>".to_vec()])
                .into_iter()
                .chain(b"trailer << /Encrypt 5 0 R >>".iter().copied())
                .collect(),
            None,
        ),
        (
            "no page tree",
            pdf(&[stream("", b"BT /F 10 Tf 10 10 Td (Loose) Tj ET")]),
            Some("Loose"),
        ),
    ];
    for (what, data, want) in cases {
        assert_eq!(
            text_of(Some("a.pdf"), "application/pdf", &data).as_deref(),
            want,
            "{what}"
        );
    }
    // Cut before the second content stream and the fonts: what is left
    // reads as WinAnsi, and the two-byte strings are dropped.
    assert_eq!(
        text_of(None, "", &truncated).as_deref(),
        Some(
            "Cerere de conectare (MPass)\nDenumirea instituiei\tPrimria Ialoveni\nIDNO: 1007601000099\na(b)c\nx)y petrei âî rânduri"
        )
    );
}

#[test]
fn pdf_inflate_is_capped() {
    let bomb = deflate(&vec![0u8; 30 << 20]);
    assert_eq!(pdf::inflate(&bomb, 1 << 20).len(), 1 << 20);
    assert_eq!(pdf::inflate(b"not deflate", 100), Vec::<u8>::new());
}

#[test]
fn pdf_cmap_ranges() {
    let map = pdf::parse_cmap(
        b"1 beginbfrange <20> <22> <00410301> endbfrange 1 beginbfchar <03> <D83DDE00> endbfchar",
    );
    assert_eq!(map.get(&0x21).map(String::as_str), Some("A\u{302}"));
    assert_eq!(map.get(&0x03).map(String::as_str), Some("😀"));
}

#[test]
fn hostile_inputs_do_not_panic() {
    let mut deep_parens =
        b"%PDF-1.4\n1 0 obj << /Type /Page /Contents 2 0 R >> endobj\n2 0 obj << >> stream\nBT ("
            .to_vec();
    deep_parens.extend(std::iter::repeat_n(b'(', 200_000));
    deep_parens.extend(b"x) Tj ET\nendstream endobj");
    let mut deep_arrays = b"%PDF-1.4\n1 0 obj ".to_vec();
    deep_arrays.extend(std::iter::repeat_n(b'[', 200_000));
    let deep_xml = zip(&[(
        "word/document.xml",
        "<w:tr><w:tc>".repeat(50_000).as_bytes(),
    )]);
    let mut random_pdf = b"%PDF-1.7\n".to_vec();
    random_pdf.extend(noise(3, 100_000));
    let mut random_zip = b"PK\x03\x04".to_vec();
    random_zip.extend(noise(5, 100_000));
    let obj_spam = b"%PDF-1.4\n"
        .iter()
        .copied()
        .chain(b"1 0 obj (".repeat(50_000))
        .collect::<Vec<u8>>();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("deep parens", deep_parens),
        ("deep arrays", deep_arrays),
        ("deep table nesting", deep_xml),
        ("random pdf", random_pdf),
        ("random zip", random_zip),
        ("object spam", obj_spam),
        (
            "unterminated xml",
            zip(&[("word/document.xml", b"<w:p><w:t>abc</w:t><w:r a=\"b>")]),
        ),
        (
            "odt without mimetype",
            zip(&[("content.xml", b"<office:document-content><text:p>ok")]),
        ),
    ];
    for (what, data) in cases {
        let _ = text_of(None, "", &data);
        let _ = what;
    }
    assert_eq!(
        text_of(
            None,
            "",
            &zip(&[("content.xml", b"<office:document-content><text:p>ok")])
        )
        .as_deref(),
        Some("ok")
    );
}

#[test]
fn truncated_and_mutated_documents_do_not_panic() {
    let docx = docx();
    let odt = odt();
    let pdf = sample_pdf(None);
    for doc in [&docx, &odt, &pdf] {
        let step = (doc.len() / 200).max(1);
        for cut in (0..doc.len()).step_by(step) {
            let _ = text_of(None, "", &doc[..cut]);
        }
        for seed in 0..150u64 {
            let mut copy = doc.to_vec();
            let picks = noise(seed, 16);
            for pair in picks.chunks(2) {
                let at = (usize::from(pair[0]) << 8 | usize::from(pair[1])) % copy.len();
                copy[at] = pair[0] ^ pair[1];
            }
            let _ = text_of(None, "", &copy);
        }
    }
    // A cut docx has no central directory any more.
    assert_eq!(text_of(None, "", &docx[..docx.len() / 2]), None);
}

#[test]
fn output_is_capped() {
    let big = "Primăria Ialoveni\n".repeat(100_000);
    let text = text_of(Some("a.txt"), "text/plain", big.as_bytes()).unwrap();
    assert!(text.len() <= MAX_TEXT);
    assert!(text.starts_with("Primăria Ialoveni\nPrimăria"));
}

/// 265 trailers of 65,000 names each: only /Root and /Encrypt are kept,
/// and a trailer past a few thousand elements is not read on.
#[test]
fn huge_trailers_cost_little() {
    let mut data = sample_pdf(None);
    let names = "/N ".repeat(65_000);
    for _ in 0..265 {
        data.extend(format!("trailer\n<< /Size 3 /K [{names}] >>\n").as_bytes());
    }
    assert_eq!(
        text_of(Some("a.pdf"), "application/pdf", &data).as_deref(),
        Some(PDF_WANT)
    );
}

/// Entities a DOCTYPE declares are not expanded (no "billion laughs"):
/// the reference stays as written.
#[test]
fn declared_entities_are_not_expanded() {
    let xml = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><w:document><w:body><w:p><w:r><w:t>x &b; y</w:t></w:r></w:p></w:body></w:document>"#;
    assert_eq!(office::docx(xml).trim(), "x &b; y");
}

/// Ill-formed markup, over and over, is read past in one pass.
#[test]
fn ill_formed_markup_is_read_past() {
    let xml = format!(
        "{}<w:p><w:r><w:t>ok</w:t></w:r></w:p>",
        "<?xml?></w:x><!DOCTYPE>&#xD800;".repeat(50_000)
    );
    assert_eq!(office::docx(&xml).trim(), "ok");
}
