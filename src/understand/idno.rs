//! IDNO (13-digit state identification number of an organisation) and its
//! check digit: Σ dᵢ·wᵢ over the first 12 digits, weights 7,3,1 repeating,
//! mod 10, equals the 13th digit. IDNP (persons) uses the same rule.

/// True when `s` is 13 ASCII digits with a correct check digit.
pub fn is_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 13 || s.len() != 13 {
        return false;
    }
    check_digit(&digits[..12]) == digits[12]
}

/// The check digit for the first 12 digits.
pub fn check_digit(first12: &[u32]) -> u32 {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    first12
        .iter()
        .enumerate()
        .map(|(i, d)| d * WEIGHTS[i % 3])
        .sum::<u32>()
        % 10
}

/// At most this many candidates are looked at: a real request names a few.
const MAX_CANDIDATES: usize = 32;

/// Every standalone run of exactly 13 digits in `text`, in order, without
/// repeats, at most `MAX_CANDIDATES`.
pub fn candidates(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, found: &mut Vec<String>| {
        if run.len() == 13 && found.len() < MAX_CANDIDATES && !found.contains(run) {
            found.push(run.clone());
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut found);
        }
    }
    flush(&mut run, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        for (idno, ok) in [
            ("1008600038413", true),
            ("1003600005148", true),
            ("1008600038412", false),
            ("100860003841", false),
            ("10086000384130", false),
            ("100860003841x", false),
            ("", false),
        ] {
            assert_eq!(is_valid(idno), ok, "{idno}");
        }
    }

    #[test]
    fn finds_standalone_runs() {
        assert_eq!(
            candidates("IDNO: 1008600038413, tel 022123456, cont 22249100000000001234"),
            vec!["1008600038413".to_string()]
        );
        assert_eq!(
            candidates("1003600005148/1003600005148"),
            vec!["1003600005148".to_string()]
        );
    }
}
