//! DOCX and ODF (ODT/ODS): ZIP packages with an XML body part, read from
//! the package parts the inspection inflated ([`Entry`]).

use super::Out;
use super::xml::{Event, Scanner};
use crate::inspect::archive::Entry;

/// Largest part we read as text.
const MAX_ENTRY: usize = 20 << 20;

pub(super) fn text(package: &[Entry]) -> Option<String> {
    let has = |name: &str| package.iter().any(|e| e.name == name);
    let read = |name: &str| {
        let entry = package.iter().find(|e| e.name == name)?;
        (entry.data.len() <= MAX_ENTRY).then(|| String::from_utf8_lossy(&entry.data).into_owned())
    };
    if has("word/document.xml") {
        return Some(docx(&read("word/document.xml")?));
    }
    if has("content.xml") {
        let mime = read("mimetype").unwrap_or_default();
        let content = read("content.xml")?;
        let odf = mime
            .trim()
            .starts_with("application/vnd.oasis.opendocument")
            || (mime.is_empty() && content.contains("office:document-content"));
        return odf.then(|| odf_text(&content));
    }
    // A WordprocessingML package whose main part has another name.
    if has("_rels/.rels") {
        let rels = read("_rels/.rels")?;
        let target = main_part(&rels)?;
        if has(&target) {
            return Some(docx(&read(&target)?));
        }
    }
    None
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
