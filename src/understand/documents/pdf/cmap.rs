//! ToUnicode CMaps: the map from a font's character codes to the text
//! they stand for, which is how two-byte fonts can be read at all.

use std::collections::HashMap;

use super::MAX_CMAP;
use super::{lexer, operand};
use crate::pdf::{Obj, Tok};

/// A ToUnicode CMap: `bfchar` and `bfrange` entries, with targets in
/// UTF-16BE. Ranges are expanded, up to a total cap.
pub(in crate::understand::documents) fn parse_cmap(data: &[u8]) -> HashMap<u32, String> {
    #[derive(PartialEq)]
    enum Mode {
        None,
        Char,
        Range,
    }
    let mut map = HashMap::new();
    let mut lx = lexer(data);
    let mut ops: Vec<Obj> = Vec::new();
    let mut mode = Mode::None;
    while let Some(tok) = lx.next_tok() {
        if map.len() >= MAX_CMAP {
            break;
        }
        match tok {
            Tok::Kw(b"beginbfchar") => mode = Mode::Char,
            Tok::Kw(b"beginbfrange") => mode = Mode::Range,
            Tok::Kw(_) => mode = Mode::None,
            tok => {
                let Some(obj) = operand(&mut lx, tok) else {
                    ops.clear();
                    continue;
                };
                if mode == Mode::None {
                    continue;
                }
                ops.push(obj);
                match (&mode, ops.as_slice()) {
                    (Mode::Char, [Obj::Str(src, _), dst]) => {
                        if let (Some(code), Obj::Str(dst, _)) = (code_of(src), dst) {
                            map.insert(code, utf16be(&units(dst)));
                        }
                    }
                    (Mode::Range, [Obj::Str(lo, _), Obj::Str(hi, _), dst]) => {
                        if let (Some(lo), Some(hi)) = (code_of(lo), code_of(hi))
                            && lo <= hi
                            && hi - lo < 0x10000
                        {
                            add_range(&mut map, lo, hi, dst);
                        }
                    }
                    (Mode::Char, [_, _]) | (Mode::Range, [_, _, _]) => {}
                    _ => continue,
                }
                ops.clear();
            }
        }
        if matches!(mode, Mode::None) {
            ops.clear();
        }
    }
    map
}

fn add_range(map: &mut HashMap<u32, String>, lo: u32, hi: u32, dst: &Obj) {
    match dst {
        Obj::Str(start, _) => {
            let start = units(start);
            for (i, code) in (lo..=hi).enumerate() {
                if map.len() >= MAX_CMAP {
                    break;
                }
                let mut u = start.clone();
                if let Some(last) = u.last_mut() {
                    *last = last.wrapping_add(i as u16);
                }
                map.insert(code, utf16be(&u));
            }
        }
        Obj::Array(items) => {
            for (code, item) in (lo..=hi).zip(items) {
                if map.len() >= MAX_CMAP {
                    break;
                }
                if let Obj::Str(s, _) = item {
                    map.insert(code, utf16be(&units(s)));
                }
            }
        }
        _ => {}
    }
}

fn code_of(bytes: &[u8]) -> Option<u32> {
    (!bytes.is_empty() && bytes.len() <= 4)
        .then(|| bytes.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)))
}

fn units(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|p| match p {
            [h, l] => u16::from_be_bytes([*h, *l]),
            [h] => u16::from(*h),
            _ => 0,
        })
        .collect()
}

fn utf16be(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .filter(|&c| c != '\0')
        .collect()
}
