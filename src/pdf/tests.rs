//! The engine's two readings on the bytes where they part.

use super::*;

fn read(data: &[u8], reading: Reading) -> (Option<Obj>, usize) {
    let mut lx = Lexer {
        reading,
        ..Lexer::new(data)
    };
    let obj = lx.next_tok().and_then(|tok| parse(&mut lx, tok, 0));
    (obj, lx.pos)
}

#[test]
fn a_value_stays_32_bytes() {
    // The object index holds up to a million of them.
    assert_eq!(std::mem::size_of::<Obj>(), 32);
}

#[test]
fn lenient_reading_recovers() {
    let (obj, _) = read(
        b"<< /K#20ey (a\r\nb) /Hex <4z1> /R 5 0 R /Last >>",
        Reading::Lenient,
    );
    let obj = obj.unwrap();
    assert!(matches!(obj.get(b"K ey"), Some(Obj::Str(s, 11)) if s == b"a\nb"));
    assert!(matches!(obj.get(b"Hex"), Some(Obj::Str(s, _)) if s == &[0x41]));
    assert!(matches!(obj.get(b"R"), Some(Obj::Ref(5))));
    assert!(matches!(obj.get(b"Last"), Some(Obj::Null)));
    assert!(read(b"[1 2 foo]", Reading::Lenient).0.is_none());
    assert!(matches!(read(b"[1.5 ) 2]", Reading::Lenient).0, Some(Obj::Array(a)) if a.len() == 2));
}

#[test]
fn exact_reading_stops_where_the_bytes_are_wrong() {
    // A foreign byte in a hex string ends the read at that byte.
    let (obj, pos) = read(b"<< /C <30z0> >>", Reading::Exact);
    assert!(obj.is_none());
    assert_eq!(pos, 9);
    // A stray delimiter, where it stands.
    assert_eq!(read(b"[1 ) 2]", Reading::Exact).1, 3);
    // Unterminated strings are no strings.
    assert!(read(b"(abc", Reading::Exact).0.is_none());
    assert!(read(b"<3030", Reading::Exact).0.is_none());
    // What is not read is passed over; names are kept as written.
    let (obj, _) = read(
        b"<< /Type#20 /X [1 0] foo /N 1.5 /B {x} /Last >>",
        Reading::Exact,
    );
    let obj = obj.unwrap();
    assert!(matches!(obj.get(b"Type#20"), Some(Obj::Name(n)) if n == b"X"));
    assert!(matches!(obj.get(b"N"), Some(Obj::Null)));
    assert!(obj.get(b"Last").is_none());
}

#[test]
fn nesting_and_budgets_bound_the_work() {
    let deep = b"[".repeat(100);
    let mut lx = Lexer {
        nesting: 10,
        ..Lexer::new(&deep)
    };
    let tok = lx.next_tok().unwrap();
    assert!(parse(&mut lx, tok, 0).is_none());
    assert_eq!(lx.pos, 11);

    let long = b"[1 2 3 4 5 6 7 8]";
    let mut lx = Lexer {
        tokens_left: 5,
        ..Lexer::new(long)
    };
    let tok = lx.next_tok().unwrap();
    assert!(parse(&mut lx, tok, 0).is_none());
    let mut lx = Lexer {
        limit: 3,
        ..Lexer::new(long)
    };
    let tok = lx.next_tok().unwrap();
    assert!(parse(&mut lx, tok, 0).is_none());
}
