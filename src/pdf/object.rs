//! PDF values: what [`parse`] makes of the tokens of one object, bounded
//! in nesting and in element count by its lexer.

use super::lexer::{Lexer, Reading, Tok};

#[derive(Debug, Clone)]
pub(crate) enum Obj {
    Null,
    Bool,
    Num(f64),
    Name(Vec<u8>),
    /// A string's bytes, and the offset of its opening `(` or `<` in the
    /// bytes it was read from (`u32::MAX` past 4 GiB); the offset rides in
    /// the padding, so a value stays 32 bytes.
    Str(Vec<u8>, u32),
    Array(Vec<Obj>),
    Dict(Vec<(Vec<u8>, Obj)>),
    Ref(u32),
}

pub(crate) static NULL: Obj = Obj::Null;

impl Obj {
    /// The value of `key` in a dictionary; the last one when repeated.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Obj> {
        match self {
            Obj::Dict(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn num(&self) -> Option<f64> {
        match self {
            Obj::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }

    pub(crate) fn array(&self) -> Option<&[Obj]> {
        match self {
            Obj::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Values in it, itself included, up to a little past 1024.
    pub(crate) fn size(&self) -> usize {
        let items: Box<dyn Iterator<Item = &Obj>> = match self {
            Obj::Array(items) => Box::new(items.iter()),
            Obj::Dict(entries) => Box::new(entries.iter().map(|(_, v)| v)),
            _ => return 1,
        };
        let mut n = 1;
        for item in items {
            n += item.size();
            if n > 1024 {
                break;
            }
        }
        n
    }
}

pub(crate) fn as_index(n: f64) -> Option<u32> {
    (n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX)).then_some(n as u32)
}

/// One object starting with `tok`. Nesting is limited; `None` on
/// malformed input (the lexer has moved on regardless).
pub(crate) fn parse(lx: &mut Lexer<'_>, tok: Tok<'_>, depth: usize) -> Option<Obj> {
    Some(match tok {
        Tok::Num(n) => number(lx, n),
        Tok::Name(n) => Obj::Name(n),
        Tok::Str(s, at) => Obj::Str(s, u32::try_from(at).unwrap_or(u32::MAX)),
        Tok::ArrOpen => array(lx, depth)?,
        Tok::DictOpen => dict(lx, depth)?,
        Tok::Kw(b"true" | b"false") => Obj::Bool,
        Tok::Kw(b"null") => Obj::Null,
        Tok::Kw(_) if lx.reading == Reading::Exact => Obj::Null,
        Tok::Kw(_) | Tok::ArrClose | Tok::DictClose => return None,
    })
}

/// `N G R` is a reference; otherwise the lookahead is un-read, its tokens
/// given back to the budget.
fn number(lx: &mut Lexer<'_>, n: f64) -> Obj {
    if let Some(num) = as_index(n) {
        let save = (lx.pos, lx.tokens_left);
        if let Some(Tok::Num(g)) = lx.next_tok()
            && as_index(g).is_some()
            && let Some(Tok::Kw(b"R")) = lx.next_tok()
        {
            return Obj::Ref(num);
        }
        (lx.pos, lx.tokens_left) = save;
    }
    Obj::Num(n)
}

fn array(lx: &mut Lexer<'_>, depth: usize) -> Option<Obj> {
    if depth >= lx.nesting {
        return None;
    }
    let mut items = Vec::new();
    loop {
        lx.count_element()?;
        match lx.next_tok()? {
            Tok::ArrClose => break,
            t => items.push(parse(lx, t, depth + 1)?),
        }
    }
    Some(Obj::Array(items))
}

fn dict(lx: &mut Lexer<'_>, depth: usize) -> Option<Obj> {
    if depth >= lx.nesting {
        return None;
    }
    let exact = lx.reading == Reading::Exact;
    let mut entries = Vec::new();
    loop {
        lx.count_element()?;
        match lx.next_tok()? {
            Tok::DictClose => break,
            Tok::Name(key) => match lx.next_tok()? {
                Tok::DictClose => {
                    if !exact {
                        entries.push((key, Obj::Null));
                    }
                    break;
                }
                t => entries.push((key, parse(lx, t, depth + 1)?)),
            },
            // A value where a key belongs: read and passed over.
            t if exact => {
                parse(lx, t, depth + 1)?;
            }
            Tok::Kw(_) => return None,
            // A stray token: skipped on its own.
            _ => {}
        }
    }
    Some(Obj::Dict(entries))
}
