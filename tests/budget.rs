//! The memory budget with the counting allocator installed, as in the
//! binary: bytes held by an analysis are counted wherever they are freed,
//! and a checkpoint past the budget stops the analysis.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use egov_intake::budget::{self, Allocator, Limits, Spent};

#[global_allocator]
static ALLOCATOR: Allocator<std::alloc::System> = Allocator::system();

fn limits(memory_bytes: usize) -> Limits {
    Limits {
        time: Duration::from_secs(60),
        memory_bytes,
    }
}

/// What stopped `f`, if anything.
fn stopped(limits: Limits, f: impl FnOnce()) -> Option<Spent> {
    catch_unwind(AssertUnwindSafe(|| budget::run(limits, f)))
        .err()
        .map(|p| *p.downcast::<Spent>().expect("only a spent budget unwinds"))
}

#[test]
fn memory_is_counted_while_held_and_released_when_freed() {
    budget::install();
    // Past the budget: the next checkpoint stops the work.
    let stop = stopped(limits(1 << 20), || {
        let held = vec![1u8; 2 << 20];
        budget::checkpoint();
        unreachable!("{}", held.len());
    });
    assert_eq!(stop, Some(Spent::Memory));

    // Much allocated in all, little held at once: not past it.
    let stop = stopped(limits(1 << 20), || {
        for _ in 0..64 {
            let chunk = std::hint::black_box(vec![1u8; 512 << 10]);
            drop(chunk);
            budget::checkpoint();
        }
    });
    assert_eq!(stop, None);

    // Freed on another thread still counts as freed.
    let stop = stopped(limits(3 << 20), || {
        for _ in 0..8 {
            let chunk = vec![1u8; 1 << 20];
            std::thread::spawn(move || drop(chunk)).join().unwrap();
            budget::checkpoint();
        }
    });
    assert_eq!(stop, None);
}

#[test]
fn time_is_checked_at_checkpoints_and_outside_a_budget_nothing_stops() {
    budget::install();
    let spent = Limits {
        time: Duration::ZERO,
        memory_bytes: usize::MAX,
    };
    assert_eq!(stopped(spent, budget::checkpoint), Some(Spent::Time));
    // After the budget's end, its limits no longer apply.
    budget::checkpoint();
    assert_eq!(budget::spent(), None);
}
