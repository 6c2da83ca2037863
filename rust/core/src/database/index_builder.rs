//! The index builder: a background thread that inserts the rows of bulk loads into their
//! collections' graphs. An import stores its rows as fast as they arrive and leaves them
//! *pending* (searched exactly, see `index/hnsw`); once it is published, this thread builds
//! the graph a chunk at a time, so a load runs at the speed of storing rows, and a search
//! meanwhile waits at most for one chunk. The graph's progress is persisted as every
//! write's is (journal frames, then snapshots), so a restart resumes where it stood.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::Database;
use crate::error::{Error, Result};

/// Rows inserted per turn, under the collection's writer and segment locks: about a tenth
/// of a second of graph construction at 384 dimensions on two cores, which bounds how
/// long a search or a write of that collection waits for the builder.
const CHUNK_ROWS: usize = 512;
/// How long the builder sleeps when it finds nothing to build and nobody wakes it: a
/// collection opened with pending rows is found within this.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// Wakes the builder early (an import was just published).
#[derive(Default)]
pub(super) struct Wakeup {
    woken: Mutex<bool>,
    signal: Condvar,
}

impl Wakeup {
    pub(super) fn notify(&self) {
        *self.woken.lock() = true;
        self.signal.notify_all();
    }

    fn wait(&self, timeout: Duration) {
        let mut woken = self.woken.lock();
        if !*woken {
            self.signal.wait_for(&mut woken, timeout);
        }
        *woken = false;
    }
}

impl Database {
    /// Builds one chunk of pending rows into the graph of every published collection that
    /// has some; returns whether any row was built. The builder thread calls it in a loop;
    /// it is public so that a caller can also finish the work in its own thread.
    pub fn build_pending_indexes(&self) -> bool {
        let mut built_any = false;
        for (id, handle) in self.open_handles() {
            // A staged import's graph waits for its publish: abandoned, the work is lost,
            // and the import's own writes would queue behind it.
            if handle.staged.load(Ordering::Acquire) || handle.segment.read().pending_rows() == 0 {
                continue;
            }
            let _writer = handle.writer.lock();
            if self.closed.load(Ordering::Acquire) || !self.holds_id(&id, &handle) {
                continue;
            }
            let built = handle.segment.write().build_pending_index(CHUNK_ROWS);
            if built > 0 {
                built_any = true;
                if !self.read_only {
                    self.checkpoint_if_due(&id, &handle, built);
                }
            }
        }
        built_any
    }

    /// Starts the database's index builder thread, which ends once the database is closed
    /// or dropped.
    pub fn start_index_builder(database: &Arc<Database>) -> Result<()> {
        let database: Weak<Database> = Arc::downgrade(database);
        let wakeup = match database.upgrade() {
            Some(database) => Arc::clone(&database.builder_wakeup),
            None => return Ok(()),
        };
        std::thread::Builder::new()
            .name("azurite-index-builder".into())
            .spawn(move || {
                loop {
                    let Some(database) = database.upgrade() else {
                        return;
                    };
                    if database.closed.load(Ordering::Acquire) {
                        return;
                    }
                    let built = database.build_pending_indexes();
                    drop(database);
                    if !built {
                        wakeup.wait(IDLE_WAIT);
                    }
                }
            })
            .map(drop)
            .map_err(|e| Error::Internal(format!("could not start the index builder: {e}")))
    }
}
