//! The IP addresses and networks a service calls MSign from, and whether
//! each is public or in a private range the rules allow.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::lines::Line;
use super::text::problem;
use super::{Extracted, Options};
use crate::domain::ProblemCode;

/// A CIDR range (`10.20.0.0/16`, `fd00::/8`) or a single address, which is
/// a /32 or /128. Spaces around the address and the prefix length are
/// allowed, as people write them in the rules.
pub fn parse_range(s: &str) -> Option<IpNet> {
    let s = s.trim();
    let (addr, bits) = s.split_once('/').map_or((s, None), |(a, b)| (a, Some(b)));
    let ip: IpAddr = addr.trim().parse().ok()?;
    match bits {
        Some(b) => IpNet::new(ip, b.trim().parse().ok()?).ok(),
        None => Some(IpNet::from(ip)),
    }
}

/// Whether an address is reachable on the public Internet: not private,
/// loopback, link-local, CGNAT, documentation, multicast or reserved.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // Only 2000::/3 is global unicast; within it, documentation
            // (2001:db8::/32, 3fff::/20) and IETF special use (2001::/23).
            (s[0] & 0xe000) == 0x2000
                && !(s[0] == 0x2001 && s[1] == 0x0db8)
                && !(s[0] == 0x2001 && s[1] < 0x0200)
                && !(s[0] == 0x3fff && s[1] < 0x1000)
        }
    }
}

/// An address (or CIDR range) in one token such as "IP:193.226.1.10",
/// "10.0.0.1:443," or "2001:db8::1".
fn ip_in_token(tok: &str) -> Option<(IpAddr, Option<u8>)> {
    let t = tok.trim_matches(|c: char| matches!(c, '.' | ',' | ';'));
    // A label glued on with a colon ("IP:", "IPv6:") — not hex digits.
    let t = match t.split_once(':') {
        Some((label, rest))
            if label.chars().any(|c| c.is_ascii_alphabetic())
                && label.chars().any(|c| !c.is_ascii_hexdigit()) =>
        {
            rest
        }
        _ => t,
    };
    let (addr, bits) = match t.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (t, None),
    };
    let addr = addr.split('%').next().unwrap_or(addr);
    // Eight groups of two hex digits is a certificate serial, not IPv6.
    let groups: Vec<&str> = addr.split(':').collect();
    if groups.len() >= 6 && groups.iter().all(|g| !g.is_empty() && g.len() <= 2) {
        return None;
    }
    let ip = if addr.matches(':').count() >= 2
        && let Ok(v6) = addr.parse::<Ipv6Addr>()
    {
        IpAddr::V6(v6)
    } else if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        IpAddr::V4(v4)
    } else {
        let (a, port) = addr.rsplit_once(':')?;
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        IpAddr::V4(a.parse::<Ipv4Addr>().ok()?)
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match bits {
        Some(b) if b > max => None,
        Some(b) if b == max => Some((ip, None)),
        b => Some((ip, b)),
    }
}

/// Words before a dotted number that make it a version: "versiunea
/// 3.2.0.1", "build 10.4.2.1", "версия 2.4.1.7".
#[rustfmt::skip]
const VERSION_WORDS: &[&str] = &[
    "versiun", "version", "ver", "v", "build", "release", "relea", "patch", "версия", "версии",
    "версию", "сборк", "релиз", "выпуск",
];

/// Words saying an address is internal or given by a VPN: recorded, but
/// not a problem.
#[rustfmt::skip]
const INTERNAL_WORDS: &[&str] = &[
    "interna", "internal", "intern ", "intern)", "intern,", "vpn", "внутрен", "локальн",
    "local network", "retea local", "reteaua local",
];

fn follows_version_word(words: &[&str], at: usize) -> bool {
    words[at.saturating_sub(3)..at].iter().any(|w| {
        let f = super::text::fold(w.trim_matches(|c: char| !c.is_alphanumeric()));
        VERSION_WORDS
            .iter()
            .any(|v| f == *v || (v.len() > 2 && f.starts_with(v)))
    })
}

fn said_internal(line: &str) -> bool {
    let f = super::text::fold(line);
    INTERNAL_WORDS.iter().any(|w| f.contains(w))
}

pub(super) fn read_ips(lines: &[Line<'_>], options: &Options, out: &mut Extracted) {
    let allowed: Vec<IpNet> = options
        .allowed_private_ranges
        .iter()
        .filter_map(|r| parse_range(r))
        .collect();
    for l in lines {
        let words: Vec<&str> = l.body.split_whitespace().collect();
        for (at, ws) in words.iter().enumerate() {
            // An address inside a URL is a host, not an MSign client address.
            if ws.contains("://") || ws.contains('@') || follows_version_word(&words, at) {
                continue;
            }
            for tok in ws.split(|c: char| ",;()[]<>\"'«»„“”|".contains(c)) {
                let Some((ip, bits)) = ip_in_token(tok) else {
                    continue;
                };
                let shown = match bits {
                    Some(b) => format!("{ip}/{b}"),
                    None => ip.to_string(),
                };
                if out.request.ip_addresses.contains(&shown) {
                    continue;
                }
                let accepted = is_public(ip)
                    || allowed.iter().any(|r| r.contains(&ip))
                    || said_internal(l.body);
                if !accepted {
                    out.problems
                        .push(problem(ProblemCode::IpNotPublic, &shown, None));
                }
                out.request.ip_addresses.push(shown);
            }
        }
    }
}
