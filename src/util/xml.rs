//! The one way XML is read: quick-xml, lenient as real files need. It reads
//! no DTD, so an entity declared in one is never expanded (no "billion
//! laughs"), and every read is linear in the input.

use std::borrow::Cow;

use quick_xml::events::BytesStart;
use quick_xml::{Reader, XmlVersion};

/// A reader that takes markup as real files write it: end tags need not
/// match, a lone `&` is text.
pub fn lenient_xml_reader(src: &str) -> Reader<&[u8]> {
    let mut reader = Reader::from_str(src);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    reader
}

/// The value of attribute `key` (qualified name as written), entities
/// decoded; a value with a malformed reference is taken as written.
pub fn xml_attribute<'t>(tag: &'t BytesStart<'_>, key: &str) -> Option<Cow<'t, str>> {
    let found = tag.try_get_attribute(key).ok()??;
    Some(
        found
            .normalized_value(XmlVersion::Implicit1_0)
            .unwrap_or(found.value),
    )
}
