//! What the analysis of one mail may spend — wall time and memory — and the
//! checkpoints where the pure stages stop once it is spent.
//!
//! Memory is counted by the process's allocator ([`Allocator`], installed by
//! the binary with [`install`]): every byte allocated while a mail is being
//! analysed is attributed to that mail's allocation group until it is freed,
//! on whichever thread. An allocator cannot stop the code that called it,
//! so the stages call [`checkpoint`] between units of work (a MIME part, an
//! archive entry, a document, a PDF object). Past either budget the
//! checkpoint unwinds to the analysis' boundary ([`crate::parse::on_parser_thread`]),
//! which reports [`Spent`]; the mail is then recorded from its header and
//! flagged `analysis_incomplete`. Every single allocation is bounded by the
//! size caps, so a budget is overshot by at most one unit of work.
//!
//! Without the allocator installed (library tests, fuzzing) memory is not
//! counted and only time is checked.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub use tracking_allocator::Allocator;
use tracking_allocator::{AllocationGroupId, AllocationGroupToken, AllocationRegistry};

/// Which budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Spent {
    Time,
    Memory,
}

impl std::fmt::Display for Spent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Spent::Time => "the analysis ran out of time",
            Spent::Memory => "the analysis ran out of memory",
        })
    }
}

impl std::error::Error for Spent {}

/// Counting slots: an analysis owns slot `group id % SLOTS` while it runs.
/// Group ids only grow, so a slot is reused 64 analyses later, long after
/// even an abandoned analysis has stopped at its next checkpoint.
const SLOTS: usize = 64;

struct Slot {
    group: AtomicUsize,
    live: AtomicIsize,
}

static COUNTS: [Slot; SLOTS] = [const {
    Slot {
        group: AtomicUsize::new(0),
        live: AtomicIsize::new(0),
    }
}; SLOTS];

static INSTALLED: AtomicBool = AtomicBool::new(false);

struct Counter;

impl Counter {
    fn add(group: &AllocationGroupId, bytes: isize) {
        let id = group.as_usize().get();
        // Ids 1 (allocations outside any analysis) and 0 are never claimed.
        if let Some(slot) = COUNTS.get(id % SLOTS)
            && slot.group.load(Relaxed) == id
        {
            slot.live.fetch_add(bytes, Relaxed);
        }
    }
}

impl tracking_allocator::AllocationTracker for Counter {
    fn allocated(&self, _: usize, _: usize, wrapped: usize, group: AllocationGroupId) {
        Counter::add(&group, isize::try_from(wrapped).unwrap_or(isize::MAX));
    }

    fn deallocated(
        &self,
        _: usize,
        _: usize,
        wrapped: usize,
        source: AllocationGroupId,
        _: AllocationGroupId,
    ) {
        Counter::add(&source, -isize::try_from(wrapped).unwrap_or(isize::MAX));
    }
}

/// Starts counting, with [`Allocator`] as the global allocator. Callers on
/// several threads (tests) all return once counting is on: a second caller
/// waits for the first instead of finding the tracker set and counting off.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if AllocationRegistry::set_global_tracker(Counter).is_ok() {
            AllocationRegistry::enable_tracking();
            INSTALLED.store(true, Relaxed);
        }
    });
}

/// The limits of one analysis.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub time: Duration,
    pub memory_bytes: usize,
}

impl Limits {
    /// The limit that `spent` ran into, in seconds or MiB.
    pub fn of(&self, spent: Spent) -> u64 {
        match spent {
            Spent::Time => self.time.as_secs(),
            Spent::Memory => (self.memory_bytes >> 20) as u64,
        }
    }
}

#[derive(Clone, Copy)]
struct Active {
    slot: usize,
    group: usize,
    deadline: Instant,
    memory_bytes: usize,
}

thread_local! {
    static ACTIVE: Cell<Option<Active>> = const { Cell::new(None) };
}

/// Runs `f` on this thread under `limits`: [`checkpoint`]s inside it stop
/// it by unwinding with a [`Spent`] payload once a budget is spent.
pub fn run<T>(limits: Limits, f: impl FnOnce() -> T) -> T {
    let mut token = INSTALLED
        .load(Relaxed)
        .then(AllocationGroupToken::register)
        .flatten();
    let group = token.as_ref().map_or(0, |t| t.id().as_usize().get());
    let slot = group % SLOTS;
    if let Some(s) = COUNTS.get(slot).filter(|_| group != 0) {
        // Claim the slot first: a late free of the group that held it is
        // then ignored instead of landing on the fresh count.
        s.group.store(group, Relaxed);
        s.live.store(0, Relaxed);
    }
    let active = Active {
        slot,
        group,
        deadline: Instant::now() + limits.time,
        memory_bytes: limits.memory_bytes,
    };
    /// Restores the enclosing budget however `f` ends, unwinding included.
    struct Restore(Option<Active>);
    impl Drop for Restore {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(self.0));
        }
    }
    let _restore = Restore(ACTIVE.with(|a| a.replace(Some(active))));
    let _entered = token.as_mut().map(AllocationGroupToken::enter);
    f()
}

/// Stops the current analysis when it has spent its time or memory; does
/// nothing outside [`run`].
pub fn checkpoint() {
    if let Some(spent) = spent() {
        std::panic::resume_unwind(Box::new(spent));
    }
}

/// Which budget of the current analysis is spent, if any.
pub fn spent() -> Option<Spent> {
    let active = ACTIVE.with(Cell::get)?;
    if Instant::now() >= active.deadline {
        return Some(Spent::Time);
    }
    let live = COUNTS
        .get(active.slot)
        .filter(|s| active.group != 0 && s.group.load(Relaxed) == active.group)
        .map_or(0, |s| s.live.load(Relaxed));
    (usize::try_from(live).unwrap_or(0) > active.memory_bytes).then_some(Spent::Memory)
}
