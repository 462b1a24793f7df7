//! What a Rust user would reach for instead of writing a pool: each runs the same jobs as the
//! pools under test and gives the same results back (a channel of results where the tool
//! has no other way), so the comparison is the hand-off and the scheduling, nothing else.

use std::hint::black_box;
use std::ops::Range;
use std::thread;

use crossbeam_channel::{Receiver, Sender, unbounded};
use rayon::prelude::*;

use crate::{Subject, Work};

fn sum(results: &Receiver<u64>) -> u64 {
    results.iter().fold(0, u64::wrapping_add)
}

/// No threads at all: the jobs one after the other on the calling thread.
pub struct Sequential;

impl Subject for Sequential {
    fn name(&self) -> String {
        "sequential".into()
    }
    fn run(&self, _workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        Ok(Some(
            (0..jobs)
                .map(|i| black_box(work.run(i)))
                .fold(0, u64::wrapping_add),
        ))
    }
}

/// The smallest pool there is: two crossbeam channels (jobs in, results out) and plain
/// threads. What every channel-based pool pays at least.
pub struct Crossbeam;

/// Starts `workers` threads that take items from one channel and send `f(item)` to another.
fn two_channels<J: Send + 'static>(
    workers: usize,
    f: impl Fn(J) -> u64 + Send + Clone + 'static,
) -> (Sender<J>, Receiver<u64>, Vec<thread::JoinHandle<()>>) {
    let (job_tx, job_rx) = unbounded::<J>();
    let (result_tx, result_rx) = unbounded::<u64>();
    let handles = (0..workers)
        .map(|_| {
            let (jobs, results, f) = (job_rx.clone(), result_tx.clone(), f.clone());
            thread::spawn(move || {
                for job in jobs {
                    let _ = results.send(f(job));
                }
            })
        })
        .collect();
    (job_tx, result_rx, handles)
}

fn finish(
    jobs: Sender<impl Send>,
    results: &Receiver<u64>,
    handles: Vec<thread::JoinHandle<()>>,
) -> u64 {
    drop(jobs);
    for h in handles {
        let _ = h.join();
    }
    sum(results)
}

impl Subject for Crossbeam {
    fn name(&self) -> String {
        "crossbeam channels".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let (tx, rx, handles) = two_channels(workers, move |i: u64| work.run(i));
        for i in 0..jobs {
            tx.send(i).map_err(|_| "the job channel closed")?;
        }
        Ok(Some(finish(tx, &rx, handles)))
    }
}

/// The same two channels, with each job a boxed closure (`Box<dyn FnOnce() -> u64 + Send>`),
/// as `threadpool`, rayon's `spawn` and most general-purpose pools take them.
pub struct CrossbeamBoxed;

type BoxedJob = Box<dyn FnOnce() -> u64 + Send>;

impl Subject for CrossbeamBoxed {
    fn name(&self) -> String {
        "crossbeam, boxed closures".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let (tx, rx, handles) = two_channels(workers, |job: BoxedJob| job());
        for i in 0..jobs {
            tx.send(Box::new(move || work.run(i)))
                .map_err(|_| "the job channel closed")?;
        }
        Ok(Some(finish(tx, &rx, handles)))
    }
}

/// The same two channels, each message a batch of jobs (a range of job numbers).
pub struct CrossbeamBatched(pub u64);

impl Subject for CrossbeamBatched {
    fn name(&self) -> String {
        format!("crossbeam, batches of {}", self.0)
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let (tx, rx, handles) = two_channels(workers, move |r: Range<u64>| {
            r.map(|i| work.run(i)).fold(0, u64::wrapping_add)
        });
        for start in (0..jobs).step_by(self.0.max(1) as usize) {
            tx.send(start..(start + self.0).min(jobs))
                .map_err(|_| "the job channel closed")?;
        }
        Ok(Some(finish(tx, &rx, handles)))
    }
}

/// The `threadpool` crate: `execute` a boxed closure, `join` to wait.
pub struct ThreadPool;

impl Subject for ThreadPool {
    fn name(&self) -> String {
        "threadpool".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let pool = threadpool::ThreadPool::new(workers);
        let (tx, rx) = unbounded();
        for i in 0..jobs {
            let tx = tx.clone();
            pool.execute(move || {
                let _ = tx.send(work.run(i));
            });
        }
        drop(tx);
        pool.join();
        Ok(Some(sum(&rx)))
    }
}

fn rayon_pool(workers: usize) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map_err(|e| e.to_string())
}

/// rayon's `ThreadPool::spawn`: a fire-and-forget job on a work-stealing pool.
pub struct RayonSpawn;

impl Subject for RayonSpawn {
    fn name(&self) -> String {
        "rayon spawn".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let pool = rayon_pool(workers)?;
        let (tx, rx) = unbounded();
        for i in 0..jobs {
            let tx = tx.clone();
            pool.spawn(move || {
                let _ = tx.send(work.run(i));
            });
        }
        drop(tx);
        // Every job holds a Sender: the stream ends when the last job has run.
        Ok(Some(sum(&rx)))
    }
}

/// rayon's `scope`: jobs that may borrow from the caller, all finished when `scope` returns.
pub struct RayonScope;

impl Subject for RayonScope {
    fn name(&self) -> String {
        "rayon scope".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let pool = rayon_pool(workers)?;
        let (tx, rx) = unbounded();
        pool.scope(|s| {
            for i in 0..jobs {
                let tx = tx.clone();
                s.spawn(move |_| {
                    let _ = tx.send(work.run(i));
                });
            }
        });
        drop(tx);
        Ok(Some(sum(&rx)))
    }
}

/// rayon's parallel iterator: no job is handed over one by one; the range is split in
/// halves, recursively, and idle threads steal halves.
pub struct RayonParIter;

impl Subject for RayonParIter {
    fn name(&self) -> String {
        "rayon par_iter".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let pool = rayon_pool(workers)?;
        Ok(Some(pool.install(|| {
            (0..jobs)
                .into_par_iter()
                .map(|i| work.run(i))
                .reduce(|| 0, u64::wrapping_add)
        })))
    }
}

/// tokio's blocking pool: `spawn_blocking` from a runtime, awaited through a `JoinSet`.
pub struct TokioSpawnBlocking;

impl Subject for TokioSpawnBlocking {
    fn name(&self) -> String {
        "tokio spawn_blocking".into()
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(workers)
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..jobs {
                set.spawn_blocking(move || work.run(i));
            }
            let mut total = 0u64;
            while let Some(r) = set.join_next().await {
                total = total.wrapping_add(r.map_err(|e| e.to_string())?);
            }
            Ok(Some(total))
        })
    }
}

/// Every alternative, in the order tables list them.
pub fn all() -> Vec<Box<dyn Subject>> {
    vec![
        Box::new(Sequential),
        Box::new(Crossbeam),
        Box::new(CrossbeamBoxed),
        Box::new(ThreadPool),
        Box::new(RayonSpawn),
        Box::new(RayonScope),
        Box::new(RayonParIter),
        Box::new(TokioSpawnBlocking),
    ]
}
