//! The service's logout URLs, where MPass sends its LogoutRequest and
//! LogoutResponse, and the checks that they are HTTPS and not local.

use std::net::IpAddr;

use super::lines::Line;
use super::text::{fold, problem, set_once};
use super::{Extracted, MAX_CHARS, Problem};
use crate::domain::ProblemCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogoutKind {
    Request,
    Response,
    Either,
}

#[rustfmt::skip]
const SAME_WORDS: &[&str] = &[
    "aceeasi", "aceiasi", "aceeas", "la fel", "identic", "same", "то же", "тот же", "такой же",
    "совпада", "идентичн",
];

/// Byte ranges of URL-looking tokens: with a scheme, "www.", a host with a
/// path, or an absolute path.
fn url_spans(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for tok in s.split_whitespace() {
        let start = pos + s.get(pos..).and_then(|r| r.find(tok)).unwrap_or(0);
        pos = start + tok.len();
        let lower = tok.to_ascii_lowercase();
        let (from, t) = match lower.find("http") {
            Some(p) if lower.get(p..).is_some_and(|r| r.contains("://")) => {
                (p, tok.get(p..).unwrap_or_default())
            }
            _ => {
                let p = tok.len()
                    - tok
                        .trim_start_matches(|c: char| "(<\"'«„“[:".contains(c))
                        .len();
                (p, tok.get(p..).unwrap_or_default())
            }
        };
        let t = t.trim_end_matches(|c: char| ".,;:)>\"'»”“]!?".contains(c));
        let lower = t.to_ascii_lowercase();
        let host_path = lower.split_once('/').is_some_and(|(h, p)| {
            (h.contains('.') || h.starts_with("localhost"))
                && !p.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
        });
        let is_url = lower.contains("://")
            || lower.starts_with("www.")
            || host_path
            || (lower.starts_with('/') && lower.chars().any(|c| c.is_ascii_alphabetic()));
        if is_url && !t.contains('@') {
            out.push((start + from, start + from + t.len()));
        }
    }
    out
}

fn logout_keywords(line: &str, urls: &[(usize, usize)]) -> Vec<(usize, usize, LogoutKind)> {
    let lower = line.to_ascii_lowercase(); // same byte positions as `line`
    // `urls` is sorted by start: the only candidate is the last one starting at or before `p`.
    let inside_url = |p: usize| {
        let k = urls.partition_point(|&(s, _)| s <= p);
        k > 0 && p < urls[k - 1].1
    };
    let mut out = Vec::new();
    for (kind, keys) in [
        (
            LogoutKind::Request,
            [
                "logoutrequest",
                "logout request",
                "logout-request",
                "logout_request",
            ],
        ),
        (
            LogoutKind::Response,
            [
                "logoutresponse",
                "logout response",
                "logout-response",
                "logout_response",
            ],
        ),
    ] {
        for key in keys {
            for (p, m) in lower.match_indices(key) {
                if !inside_url(p) {
                    out.push((p, p + m.len(), kind));
                }
            }
        }
    }
    if out.is_empty() {
        out.extend(
            lower
                .match_indices("logout")
                .filter(|(p, _)| !inside_url(*p))
                .map(|(p, m)| (p, p + m.len(), LogoutKind::Either)),
        );
    }
    out.sort_unstable_by_key(|k| k.0);
    out
}

pub(super) fn read_logout_urls(lines: &[Line<'_>], out: &mut Extracted) {
    let mut request: Option<String> = None;
    let mut response: Option<String> = None;
    let mut either: Option<String> = None;
    let (mut request_same, mut response_same) = (false, false);
    for (i, l) in lines.iter().enumerate() {
        let urls = url_spans(l.body);
        let keys = logout_keywords(l.body, &urls);
        if keys.is_empty() {
            continue;
        }
        let found = logout_urls_on_line(lines, i, &urls, &keys);
        for (kind, url, same) in found {
            match kind {
                LogoutKind::Request => {
                    request_same |= same;
                    set_once(&mut request, url);
                }
                LogoutKind::Response => {
                    response_same |= same;
                    set_once(&mut response, url);
                }
                LogoutKind::Either => set_once(&mut either, url),
            }
        }
    }
    if response.is_none() && response_same {
        response.clone_from(&request);
    }
    if request.is_none() && request_same {
        request.clone_from(&response);
    }
    // "Logout URL: …" alone serves for both.
    if request.is_none() {
        request.clone_from(&either);
    }
    if response.is_none() {
        response.clone_from(&either);
    }
    for url in request.iter().chain(response.iter()) {
        check_url(url, &mut out.problems);
    }
    out.request.logout_request_url = request.map(|u| u.chars().take(MAX_CHARS).collect());
    out.request.logout_response_url = response.map(|u| u.chars().take(MAX_CHARS).collect());
}

/// The URL each logout keyword on line `i` names, and whether it says
/// "the same as the other one" instead; `urls` and `keys` are that line's.
fn logout_urls_on_line(
    lines: &[Line<'_>],
    i: usize,
    urls: &[(usize, usize)],
    keys: &[(usize, usize, LogoutKind)],
) -> Vec<(LogoutKind, Option<String>, bool)> {
    let body = lines[i].body;
    // Each keyword owns the URLs up to the next keyword.
    let mut found: Vec<(LogoutKind, Option<String>, bool)> = Vec::new();
    for (k, &(_, end, kind)) in keys.iter().enumerate() {
        let seg_end = keys.get(k + 1).map_or(body.len(), |n| n.0);
        let url = urls
            .get(urls.partition_point(|&(s, _)| s < end))
            .filter(|&&(s, _)| s < seg_end)
            .map(|&(s, e)| body.get(s..e).unwrap_or_default().to_string());
        let seg = fold(body.get(end.min(seg_end)..seg_end).unwrap_or_default());
        let same = url.is_none() && SAME_WORDS.iter().any(|w| seg.contains(w));
        found.push((kind, url, same));
    }
    // "LogoutRequest / LogoutResponse: URL" — both keywords share it.
    for k in (0..found.len().saturating_sub(1)).rev() {
        let (_, end, _) = keys[k];
        let between: String = body
            .get(end..keys[k + 1].0)
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        let joiner = matches!(
            fold(&between).as_str(),
            "" | "si" | "and" | "и" | "sau" | "or" | "или"
        );
        if found[k].1.is_none() && !found[k].2 && joiner {
            found[k].1 = found[k + 1].1.clone();
            found[k].2 = found[k + 1].2;
        }
    }
    // The label alone on its line, the URL on the next one.
    if let Some(last) = found.last_mut()
        && last.1.is_none()
        && !last.2
        && let Some(next) = lines
            .iter()
            .skip(i + 1)
            .take(2)
            .find(|n| !n.body.is_empty())
        && logout_keywords(next.body, &url_spans(next.body)).is_empty()
        && let Some(&(s, e)) = url_spans(next.body).first()
        && s <= 2
    {
        last.1 = Some(next.body.get(s..e).unwrap_or_default().to_string());
    }
    found
}

fn check_url(url: &str, problems: &mut Vec<Problem>) {
    let lower = url.to_ascii_lowercase();
    if !lower.starts_with("https://") || lower.len() <= "https://".len() {
        problems.push(problem(ProblemCode::UrlNotHttps, url, None));
    }
    let rest = lower.split_once("://").map_or(lower.as_str(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || host.ends_with(".local")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    if local {
        problems.push(problem(ProblemCode::UrlLocalhost, url, None));
    }
}
