//! How a backlog is cut into IMAP commands: UID sets of at most
//! [`MAX_UIDS`], fetches bounded by [`MAX_FETCH_BYTES`] (a mail larger than
//! that comes alone), and acknowledgements grouped by where the mail goes,
//! so a batch costs a handful of commands instead of four a mail. Every
//! command that changes the folder makes Dovecot re-read its index: the
//! fewer of them, the less a backlog costs the server. Pure.

use std::collections::BTreeMap;

/// Most UIDs one command names.
pub(super) const MAX_UIDS: usize = 100;
/// Most bytes of mail one FETCH brings in, and so held at once.
pub(super) const MAX_FETCH_BYTES: usize = 8 << 20;

/// One mail to fetch: its UID, its size, and whether it is fetched whole
/// (a mail over the size limit is fetched header only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Planned {
    pub(super) uid: u32,
    pub(super) size: usize,
    pub(super) whole: bool,
}

/// Cuts `sizes` (UID, RFC822.SIZE, in UID order) into fetches: consecutive
/// mails while their bytes stay within [`MAX_FETCH_BYTES`]; header-only
/// mails and mails larger than the budget go alone, since one FETCH asks
/// the same items of every UID.
pub(super) fn plan(sizes: &[(u32, usize)], max_message_bytes: usize) -> Vec<Vec<Planned>> {
    let mut fetches: Vec<Vec<Planned>> = Vec::new();
    let mut current: Vec<Planned> = Vec::new();
    let mut bytes = 0usize;
    for &(uid, size) in sizes {
        let whole = size <= max_message_bytes;
        let alone = !whole || size > MAX_FETCH_BYTES;
        let planned = Planned { uid, size, whole };
        if alone || bytes.saturating_add(size) > MAX_FETCH_BYTES || current.len() >= MAX_UIDS {
            if !current.is_empty() {
                fetches.push(std::mem::take(&mut current));
            }
            bytes = 0;
        }
        if alone {
            fetches.push(vec![planned]);
            continue;
        }
        bytes += size;
        current.push(planned);
    }
    if !current.is_empty() {
        fetches.push(current);
    }
    fetches
}

/// An IMAP sequence set naming `uids`: runs written as ranges
/// ("1:5,7,9:10"), as short as the set allows.
pub(super) fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while sorted
            .get(i + 1)
            .is_some_and(|n| Some(*n) == end.checked_add(1))
        {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// Where one mail goes once its record is committed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Ack {
    /// Marked `\Seen`, then moved to the folder (processed mail).
    SeenTo(String),
    /// Moved unseen to the folder, for staff to notice (quarantine).
    To(String),
    /// Deleted (a private key, when so configured).
    Expunge,
}

/// The UIDs of each acknowledgement, in a stable order.
pub(super) fn group(acks: &[(u32, Ack)]) -> BTreeMap<Ack, Vec<u32>> {
    let mut groups: BTreeMap<Ack, Vec<u32>> = BTreeMap::new();
    for (uid, ack) in acks {
        groups.entry(ack.clone()).or_default().push(*uid);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uids(fetches: &[Vec<Planned>]) -> Vec<Vec<u32>> {
        fetches
            .iter()
            .map(|f| f.iter().map(|p| p.uid).collect())
            .collect()
    }

    #[test]
    fn fetches_stay_within_the_byte_budget_and_large_mail_comes_alone() {
        let mb = 1 << 20;
        let sizes = [
            (1, 3 * mb),
            (2, 3 * mb),
            (3, 3 * mb),  // 9 MB would pass the budget: a new fetch
            (4, 20 * mb), // larger than the budget: alone
            (5, 1000),
            (6, 60 * mb), // over the message limit: header only, alone
            (7, 1000),
        ];
        let fetches = plan(&sizes, 50 * mb);
        assert_eq!(
            uids(&fetches),
            [vec![1, 2], vec![3], vec![4], vec![5], vec![6], vec![7]]
        );
        assert!(fetches[4][0].size == 60 * mb && !fetches[4][0].whole);
        assert!(
            fetches
                .iter()
                .flatten()
                .filter(|p| p.uid != 6)
                .all(|p| p.whole)
        );
        for f in &fetches {
            let bytes: usize = f.iter().map(|p| p.size).sum();
            assert!(f.len() == 1 || bytes <= MAX_FETCH_BYTES);
        }
    }

    #[test]
    fn a_fetch_names_at_most_max_uids() {
        let sizes: Vec<(u32, usize)> = (1..=250).map(|u| (u, 10)).collect();
        let fetches = plan(&sizes, 1 << 20);
        let lens: Vec<usize> = fetches.iter().map(Vec::len).collect();
        assert_eq!(lens, [100, 100, 50]);
        assert!(plan(&[], 1).is_empty());
    }

    #[test]
    fn uid_sets_are_written_as_ranges() {
        for (uids, set) in [
            (vec![], ""),
            (vec![7], "7"),
            (vec![1, 2, 3, 4, 5, 7, 9, 10], "1:5,7,9:10"),
            (vec![10, 9, 9, 1], "1,9:10"),
            (vec![u32::MAX - 1, u32::MAX], "4294967294:4294967295"),
        ] {
            assert_eq!(uid_set(&uids), set, "{uids:?}");
        }
    }

    #[test]
    fn acknowledgements_are_grouped_by_where_mail_goes() {
        let processed = Ack::SeenTo("Processed".into());
        let quarantine = Ack::To("Quarantine".into());
        let groups = group(&[
            (1, processed.clone()),
            (2, quarantine.clone()),
            (3, processed.clone()),
            (4, Ack::Expunge),
        ]);
        assert_eq!(groups[&processed], [1, 3]);
        assert_eq!(groups[&quarantine], [2]);
        assert_eq!(groups[&Ack::Expunge], [4]);
    }
}
