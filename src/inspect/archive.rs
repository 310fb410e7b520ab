//! Zip archives, opened with limits so that a zip bomb is flagged instead of
//! filling the memory: entries, total uncompressed bytes, and the ratio of
//! uncompressed to compressed size are all capped. Nesting depth is capped
//! by the caller, which recurses into archives found inside.

use std::io::Read;

use serde::Serialize;

use crate::domain::ProblemCode;

/// Limits for one archive tree (the outermost archive and all inside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub max_depth: usize,
    pub max_entries: usize,
    pub max_total_bytes: u64,
    /// Entries claiming more than this ratio (and more than 1 MiB) are bombs.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 3,
            max_entries: 1000,
            max_total_bytes: 100 * 1024 * 1024,
            max_ratio: 100,
        }
    }
}

/// Below this an entry's ratio is not suspicious (a page of zeros compresses well).
const RATIO_FLOOR: u64 = 1024 * 1024;

/// What remains of the limits while one archive tree is read.
#[derive(Debug, Clone)]
pub struct Budget {
    pub entries: usize,
    pub bytes: u64,
}

impl Budget {
    pub fn new(limits: &Limits) -> Budget {
        Budget {
            entries: limits.max_entries,
            bytes: limits.max_total_bytes,
        }
    }
}

/// A zip opened once for all who read it: the ASiC-E reader and the walk
/// over its entries ([`entries_of`]).
pub type Zip<'d> = zip::ZipArchive<std::io::Cursor<&'d [u8]>>;

/// One file of a zip, inflated.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// Its index in the zip: how the ASiC-E reader finds it again.
    pub index: usize,
    pub data: Vec<u8>,
}

/// Why the walk refused an entry it had begun to inflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Inflating failed: a bad CRC, a broken stream.
    Unreadable,
    /// More bytes than the limits allow came out.
    TooLarge,
}

/// One walk over a zip's entries: what was inflated, what was inflated
/// and then refused (so that nobody inflates it again), and the problems.
#[derive(Debug, Default)]
pub struct Walk {
    pub entries: Vec<Entry>,
    pub refused: Vec<(usize, Refusal)>,
    pub problems: Vec<ProblemCode>,
}

impl Walk {
    pub fn unreadable() -> Walk {
        Walk {
            problems: vec![ProblemCode::ArchiveUnreadable],
            ..Walk::default()
        }
    }

    /// The inflated entry at `index`, if the walk kept it.
    pub fn entry(&self, index: usize) -> Option<&Entry> {
        self.entries.iter().find(|e| e.index == index)
    }

    /// Why the walk refused the entry at `index` after inflating some of it.
    pub fn refusal(&self, index: usize) -> Option<Refusal> {
        self.refused
            .iter()
            .find(|(at, _)| *at == index)
            .map(|(_, why)| *why)
    }
}

// The bytes may be anything a sender zipped, a key among them: never shown.
impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// The readable entries of a zip, and the problems met.
pub fn entries(data: &[u8], limits: &Limits, budget: &mut Budget) -> Walk {
    match zip::ZipArchive::new(std::io::Cursor::new(data)) {
        Ok(mut archive) => entries_of(&mut archive, limits, budget),
        Err(_) => Walk::unreadable(),
    }
}

/// [`entries`] of a zip the caller opened.
pub fn entries_of(archive: &mut Zip<'_>, limits: &Limits, budget: &mut Budget) -> Walk {
    let mut walk = Walk::default();
    let problems = &mut walk.problems;
    for i in 0..archive.len() {
        crate::budget::checkpoint();
        if budget.entries == 0 {
            problems.push(ProblemCode::ArchiveTooManyEntries);
            break;
        }
        budget.entries -= 1;
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(zip::result::ZipError::UnsupportedArchive(m))
                if m.contains("assword") || m.contains("ncrypt") =>
            {
                problems.push(ProblemCode::ArchiveEncrypted);
                continue;
            }
            Err(_) => {
                problems.push(ProblemCode::ArchiveUnreadable);
                continue;
            }
        };
        if file.encrypted() {
            problems.push(ProblemCode::ArchiveEncrypted);
            continue;
        }
        if file.is_dir() {
            continue;
        }
        let declared = file.size();
        let compressed = file.compressed_size().max(1);
        if declared > RATIO_FLOOR && declared / compressed > limits.max_ratio {
            problems.push(ProblemCode::ArchiveBomb);
            continue;
        }
        if declared > budget.bytes {
            problems.push(ProblemCode::ArchiveTooLarge);
            break;
        }
        // Headers can lie: never read more than the budget allows.
        let mut buf = Vec::with_capacity(declared.min(1 << 20) as usize);
        match (&mut file).take(budget.bytes + 1).read_to_end(&mut buf) {
            Ok(n) if n as u64 > budget.bytes => {
                problems.push(ProblemCode::ArchiveTooLarge);
                walk.refused.push((i, Refusal::TooLarge));
                break;
            }
            Ok(n) => {
                budget.bytes -= n as u64;
                if n as u64 > RATIO_FLOOR && n as u64 / compressed > limits.max_ratio {
                    problems.push(ProblemCode::ArchiveBomb);
                    walk.refused.push((i, Refusal::TooLarge));
                    continue;
                }
            }
            Err(_) => {
                problems.push(ProblemCode::ArchiveUnreadable);
                walk.refused.push((i, Refusal::Unreadable));
                continue;
            }
        }
        walk.entries.push(Entry {
            // Entry names end up in findings, events and staff alerts.
            name: crate::parse::clean_line(file.name()),
            index: i,
            data: buf,
        });
    }
    walk.problems.dedup();
    walk
}

/// The parts an office document's text is read from: the main part of a
/// DOCX or ODF, the ODF `mimetype` and the package relationships.
const TEXT_PARTS: &[&str] = &[
    "word/document.xml",
    "content.xml",
    "mimetype",
    "_rels/.rels",
];

/// Most bytes of parts kept for one document's text.
const MAX_TEXT_PARTS: usize = 20 << 20;

/// Which of a zip's `entries` its text is read from, when it is an office
/// document: they are kept from the inspection for the understand stage, so
/// that the zip is opened once. Every XML part is kept only for a package
/// whose main part has another name (its relationships name it).
pub fn text_parts(entries: &[Entry]) -> Vec<bool> {
    let has = |name: &str| entries.iter().any(|e| e.name == name);
    let main_named = has("word/document.xml") || has("content.xml");
    if !(main_named || has("_rels/.rels") || is_office_document(entries)) {
        return vec![false; entries.len()];
    }
    let mut room = MAX_TEXT_PARTS;
    entries
        .iter()
        .map(|e| {
            let wanted = TEXT_PARTS.contains(&e.name.as_str())
                || (!main_named && e.name.to_ascii_lowercase().ends_with(".xml"));
            let fits = e.data.len() <= room;
            if wanted && fits {
                room -= e.data.len();
            }
            wanted && fits
        })
        .collect()
}

/// Office documents are zips too; they are documents, not archives to open.
pub fn is_office_document(entries: &[Entry]) -> bool {
    entries.iter().any(|e| e.name == "[Content_Types].xml")
        || entries.iter().any(|e| {
            e.name == "mimetype" && e.data.starts_with(b"application/vnd.oasis.opendocument")
        })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Only an office document's text parts are kept for understanding:
    /// nothing of a plain zip, not its media, and not past the cap.
    #[test]
    fn text_parts_are_those_of_office_documents() {
        let kept = |files: &[(&str, &[u8])]| {
            let z = zip_of(files);
            let limits = Limits::default();
            let Walk { entries: e, .. } = entries(&z, &limits, &mut Budget::new(&limits));
            let keep = text_parts(&e);
            e.iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(e, _)| e.name.clone())
                .collect::<Vec<_>>()
        };
        assert!(kept(&[("data.xml", b"<a/>"), ("photo.jpg", b"x")]).is_empty());
        let docx: &[(&str, &[u8])] = &[
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
            ("word/styles.xml", b"<w:styles/>"),
            ("word/media/image1.png", b"png"),
        ];
        assert_eq!(kept(docx), ["_rels/.rels", "word/document.xml"]);
        // The main part under another name: every XML part may be it.
        let renamed: &[(&str, &[u8])] = &[
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/main.xml", b"<w:document/>"),
            ("word/media/image1.png", b"png"),
        ];
        assert_eq!(
            kept(renamed),
            ["[Content_Types].xml", "_rels/.rels", "word/main.xml"]
        );
        let entry = |name: &str, len: usize| Entry {
            name: name.into(),
            index: 0,
            data: vec![b' '; len],
        };
        let huge = [
            entry("[Content_Types].xml", 8),
            entry("_rels/.rels", MAX_TEXT_PARTS - 4),
            entry("word/document.xml", 5),
        ];
        assert_eq!(text_parts(&huge), [false, true, false]);
    }

    #[test]
    fn reads_entries_within_limits() {
        let z = zip_of(&[("a.txt", b"hello"), ("dir/b.cer", b"x")]);
        let limits = Limits::default();
        let Walk {
            entries: e,
            problems: p,
            ..
        } = entries(&z, &limits, &mut Budget::new(&limits));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            e.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["a.txt", "dir/b.cer"]
        );
    }

    #[test]
    fn bombs_and_floods_are_flagged() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let bomb = zip_of(&[("zeros.bin", &zeros)]);
        let limits = Limits::default();
        let Walk {
            entries: e,
            problems: p,
            ..
        } = entries(&bomb, &limits, &mut Budget::new(&limits));
        assert!(e.is_empty());
        assert_eq!(p, vec![ProblemCode::ArchiveBomb]);

        let many: Vec<(String, Vec<u8>)> =
            (0..20).map(|i| (format!("{i}.txt"), vec![b'x'])).collect();
        let refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let z = zip_of(&refs);
        let small = Limits {
            max_entries: 5,
            ..Limits::default()
        };
        let Walk {
            entries: e,
            problems: p,
            ..
        } = entries(&z, &small, &mut Budget::new(&small));
        assert_eq!(e.len(), 5);
        assert_eq!(p, vec![ProblemCode::ArchiveTooManyEntries]);

        let tight = Limits {
            max_total_bytes: 3,
            ..Limits::default()
        };
        let Walk { problems: p, .. } = entries(
            &zip_of(&[("a", b"hello")]),
            &tight,
            &mut Budget::new(&tight),
        );
        assert_eq!(p, vec![ProblemCode::ArchiveTooLarge]);

        let Walk { problems: p, .. } =
            entries(b"PK\x03\x04 truncated", &small, &mut Budget::new(&small));
        assert_eq!(p, vec![ProblemCode::ArchiveUnreadable]);
    }
}
