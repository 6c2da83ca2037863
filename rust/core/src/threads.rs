//! Worker threads for a collection's parallel work (graph construction, large exact scans,
//! queries with many embeddings), sized by its `num_threads`. Collections with the same
//! size share one pool, so a database with many collections does not start a pool each.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rayon::{ThreadPool, ThreadPoolBuilder};

static POOLS: LazyLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn shared_pool(threads: usize) -> Option<Arc<ThreadPool>> {
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pool) = pools.get(&threads) {
        return Some(Arc::clone(pool));
    }
    match ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("azurite-{threads}-{i}"))
        .build()
    {
        Ok(pool) => {
            let pool = Arc::new(pool);
            pools.insert(threads, Arc::clone(&pool));
            Some(pool)
        }
        Err(e) => {
            log::warn!("could not start {threads} worker threads ({e}); using the shared pool");
            None
        }
    }
}

/// Where a collection runs its parallel work. One thread means the caller's own thread:
/// nothing is handed to a pool.
#[derive(Clone)]
pub struct Workers {
    threads: usize,
    pool: Option<Arc<ThreadPool>>,
}

impl Workers {
    pub fn new(threads: usize) -> Workers {
        let threads = threads.max(1);
        Workers {
            threads,
            pool: if threads == 1 {
                None
            } else {
                shared_pool(threads)
            },
        }
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Whether work is worth splitting: with one thread it never is.
    pub fn parallel(&self) -> bool {
        self.threads > 1
    }

    /// Runs `work` so that the rayon calls inside it use this collection's threads.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_as_many_threads_as_asked() {
        for threads in [2, 3] {
            let workers = Workers::new(threads);
            assert_eq!(workers.run(rayon::current_num_threads), threads);
        }
        let single = Workers::new(1);
        assert!(!single.parallel());
        let caller = std::thread::current().id();
        assert_eq!(single.run(|| std::thread::current().id()), caller);
    }

    #[test]
    fn collections_of_one_size_share_a_pool() {
        let (a, b) = (Workers::new(3), Workers::new(3));
        assert!(Arc::ptr_eq(
            a.pool.as_ref().unwrap(),
            b.pool.as_ref().unwrap()
        ));
    }
}
