//! The XML events WordprocessingML and ODF text is read from: element
//! names as written, attributes on demand and entity-decoded text, in
//! runs as written between tags.

use std::borrow::Cow;

use quick_xml::errors::Error;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesEnd, BytesRef, BytesStart, Event as Xml};

use crate::util::{lenient_xml_reader, xml_attribute};
use quick_xml::Reader;

#[derive(Debug)]
pub(super) enum Event<'a> {
    Start {
        tag: Tag<'a>,
        empty: bool,
    },
    End(EndTag<'a>),
    /// The text between two tags, references decoded.
    Text(Cow<'a, str>),
}

/// A start tag: its qualified name as written and its attributes.
#[derive(Debug)]
pub(super) struct Tag<'a>(BytesStart<'a>);

impl Tag<'_> {
    pub(super) fn name(&self) -> &str {
        self.0.name().0
    }

    pub(super) fn attr(&self, key: &str) -> Option<Cow<'_, str>> {
        xml_attribute(&self.0, key)
    }
}

#[derive(Debug)]
pub(super) struct EndTag<'a>(BytesEnd<'a>);

impl EndTag<'_> {
    pub(super) fn name(&self) -> &str {
        self.0.name().0
    }
}

pub(super) struct Scanner<'a> {
    reader: Reader<&'a [u8]>,
    /// The event that ended a run of text, given out after it.
    pending: Option<Step<'a>>,
    done: bool,
}

/// An event, and whether it is text that joins its neighbours into one run.
type Step<'a> = (Event<'a>, bool);

impl<'a> Scanner<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Scanner {
            reader: lenient_xml_reader(src),
            pending: None,
            done: false,
        }
    }

    /// The next event as quick-xml reads it, text not yet joined.
    fn step(&mut self) -> Option<Step<'a>> {
        while !self.done {
            let event = match self.reader.read_event() {
                Ok(Xml::Start(tag)) => Event::Start {
                    tag: Tag(tag),
                    empty: false,
                },
                Ok(Xml::Empty(tag)) => Event::Start {
                    tag: Tag(tag),
                    empty: true,
                },
                Ok(Xml::End(end)) => Event::End(EndTag(end)),
                Ok(Xml::Text(text)) => return Some((Event::Text(text.into_inner()), true)),
                Ok(Xml::GeneralRef(reference)) => {
                    return Some((Event::Text(Cow::Owned(reference_text(&reference))), true));
                }
                // A CDATA section is text of its own.
                Ok(Xml::CData(cdata)) => Event::Text(cdata.into_inner()),
                Ok(Xml::Eof) => {
                    self.done = true;
                    continue;
                }
                // A misnested or undeclared detail of the markup: read on.
                Ok(_) | Err(Error::IllFormed(_)) => continue,
                // A truncated tag or unreadable markup: nothing more to read.
                Err(_) => {
                    self.done = true;
                    continue;
                }
            };
            return Some((event, false));
        }
        None
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let (first, joins) = match self.pending.take() {
            Some(step) => step,
            None => self.step()?,
        };
        let mut text = match (first, joins) {
            (Event::Text(text), true) => text,
            (other, _) => return Some(other),
        };
        // Text and references up to the next tag make one run, as written.
        while self.pending.is_none() {
            match self.step() {
                Some((Event::Text(more), true)) => text.to_mut().push_str(&more),
                Some(other) => self.pending = Some(other),
                None => break,
            }
        }
        Some(Event::Text(text))
    }
}

/// The text a reference stands for: one of the five XML entities or a
/// character reference; an unknown entity is kept literally, a reference
/// to no character (a surrogate, NUL) reads as U+FFFD.
fn reference_text(reference: &BytesRef<'_>) -> String {
    if reference.is_char_ref() {
        let c = reference.resolve_char_ref().ok().flatten();
        return c.unwrap_or(char::REPLACEMENT_CHARACTER).to_string();
    }
    let name: &str = reference;
    match resolve_predefined_entity(name) {
        Some(text) => text.to_owned(),
        None => format!("&{name};"),
    }
}
