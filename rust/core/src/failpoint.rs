//! Named points of the write path where a test can make the process "crash" (panic), to
//! check what the next open recovers, and a count of log syncs. Compiled into test builds
//! only.

use std::cell::Cell;

thread_local! {
    static ARMED: Cell<Option<&'static str>> = const { Cell::new(None) };
    static LOG_SYNCS: Cell<usize> = const { Cell::new(0) };
    static SEGMENT_BYTES: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Makes log segments on this thread rotate at `bytes` instead of 64 MiB.
pub fn set_segment_bytes(bytes: u64) {
    SEGMENT_BYTES.with(|n| n.set(Some(bytes)));
}

pub fn segment_bytes() -> Option<u64> {
    SEGMENT_BYTES.with(Cell::get)
}

/// Counts a sync of the log to disk on this thread.
pub fn note_log_sync() {
    LOG_SYNCS.with(|n| n.set(n.get() + 1));
}

/// How many times the log was synced to disk on this thread.
pub fn log_syncs() -> usize {
    LOG_SYNCS.with(Cell::get)
}

/// Makes the next pass through `name` on this thread panic (once).
pub fn arm(name: &'static str) {
    ARMED.with(|armed| armed.set(Some(name)));
}

/// Whether `name` is armed; disarms it.
pub fn fire(name: &str) -> bool {
    ARMED.with(|armed| {
        let hit = armed.get() == Some(name);
        if hit {
            armed.set(None);
        }
        hit
    })
}

/// Panics at `name` when a test armed it.
pub fn crash_point(name: &str) {
    if fire(name) {
        panic!("failpoint {name}: simulated crash");
    }
}
