//! How a batch is acknowledged on the IMAP server: UID sets written as
//! ranges, and acknowledgements grouped by where the mail goes, so a batch
//! costs a handful of commands instead of four a mail. Every command that
//! changes the folder makes Dovecot re-read its index: the fewer of them,
//! the less a backlog costs the server. Pure.

use std::collections::BTreeMap;

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
