//! The content-stream interpreter: runs a page's text operators and
//! follows the text position, so that lines break and words part where
//! the page shows them.

use std::collections::HashMap;
use std::rc::Rc;

use super::MAX_FORM_DEPTH;
use super::document::Doc;
use super::fonts::Font;
use super::{lexer, operand};
use crate::pdf::{Lexer, NULL, Obj, Tok, is_ws};
use crate::understand::documents::{Out, find};

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

fn mul(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn translate(x: f64, y: f64) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, x, y]
}

/// Graphics state that `q`/`Q` save and restore.
#[derive(Clone)]
struct State {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f64,
    leading: f64,
    char_spacing: f64,
    word_spacing: f64,
    h_scale: f64,
}

/// Where the last text ended, in device space.
struct Last {
    y: f64,
    end_x: f64,
    em: f64,
    exact: bool,
}

pub(super) struct Interp<'d> {
    doc: &'d Doc<'d>,
    pub(super) out: Out,
    /// Fonts by object number, and fonts written inline in a resource
    /// dictionary by address: loading one may read a CMap stream.
    fonts: HashMap<u32, Rc<Font>>,
    inline_fonts: HashMap<*const Obj, Rc<Font>>,
    /// Resource dictionaries (/Font, /XObject) as hash maps, built once
    /// per dictionary however many pages share it.
    maps: HashMap<*const Obj, Rc<NameMap<'d>>>,
    plain: Rc<Font>,
    state: State,
    stack: Vec<State>,
    tm: Matrix,
    tlm: Matrix,
    last: Option<Last>,
    force_newline: bool,
}

impl<'d> Interp<'d> {
    pub(super) fn new(doc: &'d Doc<'d>) -> Self {
        Interp {
            doc,
            out: Out::default(),
            fonts: HashMap::new(),
            inline_fonts: HashMap::new(),
            maps: HashMap::new(),
            plain: Rc::new(Font::plain()),
            state: Interp::initial_state(),
            stack: Vec::new(),
            tm: IDENTITY,
            tlm: IDENTITY,
            last: None,
            force_newline: false,
        }
    }

    fn initial_state() -> State {
        State {
            ctm: IDENTITY,
            font: None,
            size: 12.0,
            leading: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            h_scale: 1.0,
        }
    }

    pub(super) fn page(&mut self, content: &[u8], resources: Option<&'d Obj>) {
        if content.is_empty() {
            return;
        }
        self.state = Interp::initial_state();
        self.stack.clear();
        self.last = None;
        self.run(content, resources, 0);
        // A blank line between pages.
        self.out.newline();
        self.out.newline();
    }

    fn run(&mut self, content: &[u8], resources: Option<&'d Obj>, depth: usize) {
        let doc = self.doc;
        let resources = resources.map_or(&NULL, |r| doc.resolve(r));
        let names = Names {
            fonts: self.map(doc.get(resources, b"Font")),
            xobjects: self.map(doc.get(resources, b"XObject")),
            resources,
            depth,
        };
        let mut lx = lexer(content);
        let mut ops: Vec<Obj> = Vec::new();
        while let Some(tok) = lx.next_tok() {
            if self.out.full {
                return;
            }
            let op = match tok {
                Tok::Kw(op) => op,
                tok => {
                    match operand(&mut lx, tok) {
                        Some(obj) if ops.len() < 64 => ops.push(obj),
                        _ => ops.clear(),
                    }
                    continue;
                }
            };
            if op == b"ID" {
                skip_inline_image(&mut lx);
            } else if !self.graphics_op(op, &ops)
                && !self.text_state_op(op, &ops)
                && !self.show_op(op, &ops)
            {
                self.resource_op(op, &ops, &names);
            }
            ops.clear();
        }
    }

    /// `q`, `Q`, `cm`, `BT`: the graphics state and the text object.
    fn graphics_op(&mut self, op: &[u8], ops: &[Obj]) -> bool {
        match op {
            // Unbalanced `q` beyond this depth are ignored.
            b"q" if self.stack.len() < 64 => self.stack.push(self.state.clone()),
            b"Q" => {
                if let Some(state) = self.stack.pop() {
                    self.state = state;
                }
            }
            b"cm" => {
                if let Some(m) = matrix(ops) {
                    self.state.ctm = mul(&m, &self.state.ctm);
                }
            }
            b"BT" => {
                self.tm = IDENTITY;
                self.tlm = IDENTITY;
            }
            _ => return false,
        }
        true
    }

    /// Spacing, scaling, leading and the text position.
    fn text_state_op(&mut self, op: &[u8], ops: &[Obj]) -> bool {
        let n = |i: usize| nth_last_num(ops, i);
        match op {
            b"TL" => self.state.leading = n(1).unwrap_or(0.0),
            b"Tc" => self.state.char_spacing = n(1).unwrap_or(0.0),
            b"Tw" => self.state.word_spacing = n(1).unwrap_or(0.0),
            b"Tz" => self.state.h_scale = n(1).unwrap_or(100.0) / 100.0,
            b"Td" | b"TD" => {
                if let (Some(tx), Some(ty)) = (n(2), n(1)) {
                    if op == b"TD" {
                        self.state.leading = -ty;
                    }
                    self.move_line(tx, ty);
                }
            }
            b"Tm" => {
                if let Some(m) = matrix(ops) {
                    self.tm = m;
                    self.tlm = m;
                }
            }
            b"T*" => self.next_line(),
            _ => return false,
        }
        true
    }

    /// `Tj`, `'`, `"` and `TJ`: text shown.
    fn show_op(&mut self, op: &[u8], ops: &[Obj]) -> bool {
        let last_str = match ops.last() {
            Some(Obj::Str(s, _)) => Some(s.as_slice()),
            _ => None,
        };
        match op {
            b"Tj" => {}
            b"'" => self.next_line(),
            b"\"" => {
                if let (Some(aw), Some(ac)) = (nth_last_num(ops, 3), nth_last_num(ops, 2)) {
                    self.state.word_spacing = aw;
                    self.state.char_spacing = ac;
                }
                self.next_line();
            }
            b"TJ" => {
                for item in ops.last().and_then(Obj::array).unwrap_or(&[]) {
                    match item {
                        Obj::Str(s, _) => self.show(s),
                        Obj::Num(k) => self.advance(-k / 1000.0 * self.state.size),
                        _ => {}
                    }
                }
                return true;
            }
            _ => return false,
        }
        if let Some(s) = last_str {
            self.show(s);
        }
        true
    }

    /// `Tf` and `Do`: what the page's resources name.
    fn resource_op(&mut self, op: &[u8], ops: &[Obj], names: &Names<'d>) {
        match op {
            b"Tf" => {
                if let Some(size) = nth_last_num(ops, 1) {
                    self.state.size = size;
                }
                let name = ops.len().checked_sub(2).and_then(|i| ops.get(i)?.name());
                let font = name.and_then(|name| names.fonts.get(name).copied());
                self.state.font = font.and_then(|font| self.font(font));
            }
            b"Do" => {
                if let Some(Obj::Ref(num)) = ops
                    .last()
                    .and_then(Obj::name)
                    .and_then(|x| names.xobjects.get(x))
                {
                    self.form(*num, names.resources, names.depth);
                }
            }
            _ => {}
        }
    }

    /// The font a resource entry names, loaded once.
    fn font(&mut self, font: &'d Obj) -> Option<Rc<Font>> {
        let doc = self.doc;
        match font {
            Obj::Ref(num) => Some(
                self.fonts
                    .entry(*num)
                    .or_insert_with(|| {
                        Rc::new(
                            doc.objs
                                .get(num)
                                .map_or_else(Font::plain, |e| Font::load(doc, &e.obj)),
                        )
                    })
                    .clone(),
            ),
            Obj::Dict(_) => Some(
                self.inline_fonts
                    .entry(font as *const Obj)
                    .or_insert_with(|| Rc::new(Font::load(doc, font)))
                    .clone(),
            ),
            _ => None,
        }
    }

    fn map(&mut self, dict: &'d Obj) -> Rc<NameMap<'d>> {
        self.maps
            .entry(dict as *const Obj)
            .or_insert_with(|| {
                Rc::new(match dict {
                    Obj::Dict(entries) => entries.iter().map(|(k, v)| (k.as_slice(), v)).collect(),
                    _ => HashMap::new(),
                })
            })
            .clone()
    }

    /// A form XObject: its own content, resources and matrix.
    fn form(&mut self, num: u32, resources: &'d Obj, depth: usize) {
        let doc = self.doc;
        let Some(entry) = doc.objs.get(&num) else {
            return;
        };
        if depth >= MAX_FORM_DEPTH || doc.get(&entry.obj, b"Subtype").name() != Some(b"Form") {
            return;
        }
        let Some(content) = doc.stream_data(num) else {
            return;
        };
        let saved = (self.state.clone(), self.tm, self.tlm);
        if let Some(m) = doc.get(&entry.obj, b"Matrix").array().and_then(matrix) {
            self.state.ctm = mul(&m, &self.state.ctm);
        }
        let own = entry.obj.get(b"Resources").unwrap_or(resources);
        self.run(&content, Some(own), depth + 1);
        (self.state, self.tm, self.tlm) = saved;
    }

    fn move_line(&mut self, tx: f64, ty: f64) {
        self.tlm = mul(&translate(tx, ty), &self.tlm);
        self.tm = self.tlm;
    }

    fn next_line(&mut self) {
        self.move_line(0.0, -self.state.leading);
        self.force_newline = true;
    }

    fn advance(&mut self, tx: f64) {
        self.tm = mul(&translate(tx * self.state.h_scale, 0.0), &self.tm);
    }

    /// Shows one string: decides on a line break or a gap from where the
    /// previous text ended, then moves past the string.
    fn show(&mut self, bytes: &[u8]) {
        let font = self
            .state
            .font
            .clone()
            .unwrap_or_else(|| self.plain.clone());
        let Some(shown) = font.decode(bytes) else {
            return;
        };
        let trm = mul(&self.tm, &self.state.ctm);
        let (x, y) = (trm[4], trm[5]);
        let em = (self.state.size * trm[2].hypot(trm[3])).abs().max(0.01);
        if !shown.text.is_empty() {
            if let Some(last) = &self.last {
                let unit = em.max(last.em);
                let gap = x - last.end_x;
                let (space, tab) = if last.exact { (0.15, 3.0) } else { (0.8, 4.0) };
                if self.force_newline || (y - last.y).abs() > 0.5 * unit {
                    self.out.newline();
                } else if gap > tab * unit {
                    self.out.push("\t");
                } else if gap > space * unit {
                    self.out.push(" ");
                }
            }
            self.out.push(&shown.text);
            self.force_newline = false;
        }
        let s = &self.state;
        let width = shown.width * s.size
            + s.char_spacing * shown.codes as f64
            + s.word_spacing * shown.spaces as f64;
        self.advance(width);
        if !shown.text.is_empty() {
            let end = mul(&self.tm, &self.state.ctm);
            self.last = Some(Last {
                y,
                end_x: end[4],
                em,
                exact: shown.exact,
            });
        }
    }
}

type NameMap<'d> = HashMap<&'d [u8], &'d Obj>;

/// What the operators of one content stream look names up in.
struct Names<'d> {
    fonts: Rc<NameMap<'d>>,
    xobjects: Rc<NameMap<'d>>,
    resources: &'d Obj,
    /// Forms nested around the stream.
    depth: usize,
}

/// The `i`th operand from the end, as a number.
fn nth_last_num(ops: &[Obj], i: usize) -> Option<f64> {
    ops.len().checked_sub(i).and_then(|k| ops.get(k)?.num())
}

/// The last six operands as a matrix.
fn matrix(ops: &[Obj]) -> Option<Matrix> {
    let six = ops.get(ops.len().checked_sub(6)?..)?;
    let mut m = IDENTITY;
    for (slot, op) in m.iter_mut().zip(six) {
        *slot = op.num()?;
    }
    Some(m)
}

/// Inline image data runs from after `ID` to an `EI` between
/// whitespace; it is binary and must not be tokenized.
fn skip_inline_image(lx: &mut Lexer<'_>) {
    let mut pos = lx.pos + 1;
    loop {
        let Some(i) = lx.data.get(pos..).and_then(|d| find(d, b"EI")) else {
            lx.pos = lx.data.len();
            return;
        };
        let at = pos + i;
        let before = at == 0 || lx.data.get(at - 1).is_some_and(|&b| is_ws(b));
        let after = lx.data.get(at + 2).is_none_or(|&b| is_ws(b));
        if before && after {
            lx.pos = at + 2;
            return;
        }
        pos = at + 2;
    }
}
