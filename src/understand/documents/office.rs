//! DOCX and ODF (ODT/ODS): ZIP packages with an XML body part.

use std::io::{Cursor, Read};

use super::Out;
use super::xml::{Event, Scanner};

/// Largest part we inflate (and the most any one part may produce).
const MAX_ENTRY: u64 = 20 << 20;
/// Entries past this index are ignored.
const MAX_ENTRIES: usize = 2000;

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

pub(super) fn text(data: &[u8]) -> Option<String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(data)).ok()?;
    if has(&zip, "word/document.xml") {
        return Some(docx(&read(&mut zip, "word/document.xml")?));
    }
    if has(&zip, "content.xml") {
        let mime = if has(&zip, "mimetype") {
            read(&mut zip, "mimetype").unwrap_or_default()
        } else {
            String::new()
        };
        let content = read(&mut zip, "content.xml")?;
        let odf = mime
            .trim()
            .starts_with("application/vnd.oasis.opendocument")
            || (mime.is_empty() && content.contains("office:document-content"));
        return odf.then(|| odf_text(&content));
    }
    // A WordprocessingML package whose main part has another name.
    if has(&zip, "_rels/.rels") {
        let rels = read(&mut zip, "_rels/.rels")?;
        let target = main_part(&rels)?;
        if has(&zip, &target) {
            return Some(docx(&read(&mut zip, &target)?));
        }
    }
    None
}

fn has(zip: &Zip<'_>, name: &str) -> bool {
    zip.index_for_name(name).is_some_and(|i| i < MAX_ENTRIES)
}

/// One part as text. The declared size is checked first, and `take`
/// bounds the inflater in case the header lies. A part that fails midway
/// (corrupt data, bad checksum) still yields what was read.
fn read(zip: &mut Zip<'_>, name: &str) -> Option<String> {
    let index = zip.index_for_name(name).filter(|&i| i < MAX_ENTRIES)?;
    let file = zip.by_index(index).ok()?;
    if file.size() > MAX_ENTRY {
        return None;
    }
    let mut buf = Vec::new();
    let failed = file.take(MAX_ENTRY + 1).read_to_end(&mut buf).is_err();
    if buf.len() as u64 > MAX_ENTRY || (failed && buf.is_empty()) {
        return None;
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Target of the package's officeDocument relationship.
fn main_part(rels: &str) -> Option<String> {
    Scanner::new(rels).find_map(|event| match event {
        Event::Start { tag, .. }
            if tag.name() == "Relationship"
                && tag
                    .attr("Type")
                    .is_some_and(|t| t.ends_with("/officeDocument")) =>
        {
            let target = tag.attr("Target")?;
            let target = target.trim_start_matches('/');
            target.ends_with(".xml").then(|| target.to_owned())
        }
        _ => None,
    })
}

/// Elements whose content is not body text: property blocks (their
/// `<w:tab/>` are tab stops), the VML fallback duplicating a drawing's
/// text box, deleted and moved-away revisions.
const DOCX_SKIP: &[&str] = &[
    "mc:Fallback",
    "w:pPr",
    "w:rPr",
    "w:sectPr",
    "w:del",
    "w:moveFrom",
];

pub(super) fn docx(xml: &str) -> String {
    let mut out = Out::default();
    let mut in_text = 0usize;
    let mut skip = 0usize;
    for event in Scanner::new(xml) {
        if out.full {
            break;
        }
        match event {
            Event::Start { tag, empty } => {
                let name = tag.name();
                if DOCX_SKIP.contains(&name) {
                    skip += usize::from(!empty);
                    continue;
                }
                if skip > 0 {
                    continue;
                }
                match name {
                    "w:t" if !empty => in_text += 1,
                    "w:tab" => out.push("\t"),
                    "w:br" | "w:cr" => out.paragraph_end(),
                    "w:noBreakHyphen" => out.push("-"),
                    "w:p" if empty => out.paragraph_end(),
                    "w:tr" if !empty => out.row_start(),
                    "w:tc" => out.cell_start(),
                    _ => {}
                }
            }
            Event::End(end) => {
                let name = end.name();
                if DOCX_SKIP.contains(&name) {
                    skip = skip.saturating_sub(1);
                    continue;
                }
                if skip > 0 {
                    continue;
                }
                match name {
                    "w:t" => in_text = in_text.saturating_sub(1),
                    "w:p" => out.paragraph_end(),
                    "w:tr" => out.row_end(),
                    _ => {}
                }
            }
            Event::Text(text) => {
                if in_text > 0 && skip == 0 {
                    out.push(&text);
                }
            }
        }
    }
    out.text
}

/// Comments, change tracking, foot/endnotes, style and script blocks,
/// image titles: not body text.
const ODF_SKIP: &[&str] = &[
    "office:annotation",
    "office:automatic-styles",
    "office:font-face-decls",
    "office:scripts",
    "office:forms",
    "text:tracked-changes",
    "text:note",
    "svg:title",
    "svg:desc",
];

pub(super) fn odf_text(xml: &str) -> String {
    let mut out = Out::default();
    let mut in_paragraph = 0usize;
    let mut skip = 0usize;
    for event in Scanner::new(xml) {
        if out.full {
            break;
        }
        match event {
            Event::Start { tag, empty } => {
                let name = tag.name();
                if ODF_SKIP.contains(&name) {
                    skip += usize::from(!empty);
                    continue;
                }
                if skip > 0 {
                    continue;
                }
                match name {
                    "text:p" | "text:h" if empty => out.paragraph_end(),
                    "text:p" | "text:h" => in_paragraph += 1,
                    "text:tab" => out.push("\t"),
                    "text:line-break" => out.paragraph_end(),
                    "text:s" => {
                        let n = tag
                            .attr("text:c")
                            .and_then(|c| c.trim().parse::<usize>().ok())
                            .unwrap_or(1);
                        out.push_spaces(n.min(64));
                    }
                    "table:table-row" if !empty => out.row_start(),
                    "table:table-cell" => out.cell_start(),
                    _ => {}
                }
            }
            Event::End(end) => {
                let name = end.name();
                if ODF_SKIP.contains(&name) {
                    skip = skip.saturating_sub(1);
                    continue;
                }
                if skip > 0 {
                    continue;
                }
                match name {
                    "text:p" | "text:h" => {
                        in_paragraph = in_paragraph.saturating_sub(1);
                        out.paragraph_end();
                    }
                    "table:table-row" => out.row_end(),
                    _ => {}
                }
            }
            Event::Text(text) => {
                if in_paragraph > 0 && skip == 0 {
                    out.push(&collapse(&text));
                }
            }
        }
    }
    out.text
}

/// ODF collapses runs of XML whitespace to one space; explicit spaces
/// are `<text:s/>`.
fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}
