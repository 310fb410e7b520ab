//! How a backlog is cut into batches: at most [`MAX_MAILS`] mails and
//! [`MAX_BATCH_BYTES`] of them (a mail larger than that comes alone). A
//! batch is one IMAP fetch and one acknowledgement per destination, and
//! one database transaction for both sources ([`crate::pipeline::Delivery`]).
//! Pure.

/// Most mails in one batch (IMAP: UIDs one command names).
pub const MAX_MAILS: usize = 100;
/// Most bytes of mail one batch brings in, and so holds at once.
pub const MAX_BATCH_BYTES: usize = 8 << 20;

/// One mail of a batch: its UID (IMAP) or its place in the listing
/// (Maildir), its size, and whether it is fetched whole
/// (a mail over the size limit is fetched header only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub id: u32,
    pub size: usize,
    pub whole: bool,
}

/// Cuts `sizes` (id and size, in arrival order) into batches: consecutive
/// mails while their bytes stay within [`MAX_BATCH_BYTES`]; header-only
/// mails and mails larger than the budget go alone, since one IMAP FETCH
/// asks the same items of every UID.
pub fn plan(sizes: &[(u32, usize)], max_message_bytes: usize) -> Vec<Vec<Planned>> {
    let mut fetches: Vec<Vec<Planned>> = Vec::new();
    let mut current: Vec<Planned> = Vec::new();
    let mut bytes = 0usize;
    for &(id, size) in sizes {
        let whole = size <= max_message_bytes;
        let alone = !whole || size > MAX_BATCH_BYTES;
        let planned = Planned { id, size, whole };
        if alone || bytes.saturating_add(size) > MAX_BATCH_BYTES || current.len() >= MAX_MAILS {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn uids(fetches: &[Vec<Planned>]) -> Vec<Vec<u32>> {
        fetches
            .iter()
            .map(|f| f.iter().map(|p| p.id).collect())
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
                .filter(|p| p.id != 6)
                .all(|p| p.whole)
        );
        for f in &fetches {
            let bytes: usize = f.iter().map(|p| p.size).sum();
            assert!(f.len() == 1 || bytes <= MAX_BATCH_BYTES);
        }
    }

    #[test]
    fn a_batch_holds_at_most_max_mails() {
        let sizes: Vec<(u32, usize)> = (1..=250).map(|u| (u, 10)).collect();
        let fetches = plan(&sizes, 1 << 20);
        let lens: Vec<usize> = fetches.iter().map(Vec::len).collect();
        assert_eq!(lens, [100, 100, 50]);
        assert!(plan(&[], 1).is_empty());
    }
}
