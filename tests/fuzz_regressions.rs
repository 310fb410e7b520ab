//! Replays every input the fuzzers ever found — `fuzz/regressions/<target>/*`
//! — through the same `egov_intake::fuzzing::<target>` entry point, on
//! stable, so a fixed crash, hang or memory blow-up stays fixed.
//!
//! Each input runs on its own thread, watched for a panic, for running past
//! a generous time limit (`EGOV_FUZZ_REPLAY_SECS`, default 60: this is a
//! debug build, the fuzzer's limit was 10 s optimised) and for holding more
//! than `MEMORY_BUDGET` live (a counting allocator keeps the tally per
//! thread). A slow input's thread is abandoned and the next one runs; an
//! input over the memory budget ends the run, so that CI is not taken down.
//! All failures are reported together.

// Test code may cut strings where it built them itself.
#![allow(clippy::string_slice)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Live heap bytes one input may hold; the fuzzer's whole-process limit was 2 GiB.
const MEMORY_BUDGET: isize = 1 << 30;

/// A fuzz target's entry point.
type Entry = fn(&[u8]);

/// The fuzz targets, each with its entry point.
const TARGETS: &[(&str, Entry)] = &[
    ("pipeline", egov_intake::fuzzing::pipeline),
    ("inspect", egov_intake::fuzzing::inspect),
    ("headers", egov_intake::fuzzing::headers),
    ("config", egov_intake::fuzzing::config),
    ("pdf", egov_intake::fuzzing::pdf),
];

/// Allocation tallies: slot 0 is every thread not replaying an input.
const SLOTS: usize = 4096;
static LIVE: [AtomicIsize; SLOTS] = [const { AtomicIsize::new(0) }; SLOTS];
static OVER: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];

thread_local! {
    static SLOT: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting live bytes per replay thread.
struct Counting;

fn tally(delta: isize) {
    // try_with: no tally (rather than a panic) while a thread is torn down.
    let slot = SLOT.try_with(Cell::get).unwrap_or(0);
    let live = LIVE[slot].fetch_add(delta, Ordering::Relaxed) + delta;
    if slot != 0 && live > MEMORY_BUDGET {
        OVER[slot].store(true, Ordering::Relaxed);
    }
}

fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded to `System` unchanged; only counters change.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            tally(size(layout));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            tally(size(layout));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        tally(-size(layout));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            tally(isize::try_from(new_size).unwrap_or(isize::MAX) - size(layout));
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("regressions folder entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn time_limit() -> Duration {
    let secs = std::env::var("EGOV_FUZZ_REPLAY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// The panic's message, cut short: it may quote a whole hostile input.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    let short: String = message.chars().take(300).collect();
    if short.len() < message.len() {
        format!("{short}…")
    } else {
        short
    }
}

enum Outcome {
    Passed,
    Failed(String),
    /// Over the memory budget: nothing after it can be trusted to run.
    Stop(String),
}

fn replay(slot: usize, entry: Entry, data: Vec<u8>, limit: Duration) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("replay-{slot}"))
        .stack_size(16 << 20)
        .spawn(move || {
            SLOT.with(|s| s.set(slot));
            let result = std::panic::catch_unwind(|| entry(&data));
            // The input is dropped here, still counted on this slot.
            drop(data);
            let _ = tx.send(result.map_err(|p| panic_message(&*p)));
        });
    if let Err(e) = spawned {
        return Outcome::Failed(format!("cannot start a thread: {e}"));
    }
    let start = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(5)) {
            Ok(Ok(())) => return Outcome::Passed,
            Ok(Err(message)) => return Outcome::Failed(format!("panicked: {message}")),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Outcome::Failed("thread ended without a result".into());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if OVER[slot].load(Ordering::Relaxed) {
            return Outcome::Stop(format!(
                "held over {} MiB live; the run stops here",
                MEMORY_BUDGET >> 20
            ));
        }
        if start.elapsed() > limit {
            return Outcome::Failed(format!("still running after {} s", limit.as_secs()));
        }
    }
}

#[test]
fn fuzz_regressions_replay_cleanly() {
    let limit = time_limit();
    let mut failures = Vec::new();
    let mut replayed = 0;
    let mut slot = 0;
    'targets: for (target, entry) in TARGETS {
        for path in regressions(target) {
            slot += 1;
            assert!(slot < SLOTS, "more than {SLOTS} regressions; raise SLOTS");
            let data = std::fs::read(&path).expect("regression input is readable");
            let name = format!("{target}/{}", path.file_name().unwrap().to_string_lossy());
            let start = Instant::now();
            let outcome = replay(slot, *entry, data, limit);
            replayed += 1;
            match outcome {
                Outcome::Passed => {
                    eprintln!("ok   {name} ({} ms)", start.elapsed().as_millis());
                }
                Outcome::Failed(why) => {
                    eprintln!("FAIL {name}: {why}");
                    failures.push(format!("{name}: {why}"));
                }
                Outcome::Stop(why) => {
                    eprintln!("FAIL {name}: {why}");
                    failures.push(format!("{name}: {why}"));
                    break 'targets;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {replayed} fuzz regressions fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The entry points themselves run clean on ordinary input, so a failure
/// above is about its input, not about the harness.
#[test]
fn entry_points_accept_the_shipped_samples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut mails = 0;
    for dir in ["tests/golden", "examples/mail"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "eml") {
                let raw = std::fs::read(&path).unwrap();
                egov_intake::fuzzing::pipeline(&raw);
                egov_intake::fuzzing::headers(&raw);
                mails += 1;
            }
        }
    }
    assert!(mails >= 10, "only {mails} sample mails found");
    for (i, file) in egov_intake::fuzzing::RULES_FILES.iter().enumerate() {
        let mut data = vec![u8::try_from(i).unwrap()];
        data.extend(std::fs::read(root.join("rules").join(file)).unwrap());
        egov_intake::fuzzing::config(&data);
    }
    let der = b"\x30\x03\x02\x01\x00";
    egov_intake::fuzzing::inspect(der);
    egov_intake::fuzzing::inspect(b"");
    egov_intake::fuzzing::config(b"");
    egov_intake::fuzzing::pdf(b"");
    egov_intake::fuzzing::pdf(
        b"%PDF-1.4\n1 0 obj << /Type /Sig /ByteRange [0 1 2 3] /Contents <3000> >> endobj\n\
          2 0 obj << /Length 22 >> stream\nBT (Cerere) Tj ET\nendstream endobj",
    );
}
