//! Exercise 2's pool as a bench subject.
//!
//! `super::buffered` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench buffered`.

use bench_kit::{Subject, Work};

use super::buffered::{BufferedPool, Buffers};

/// Every way this bench uses the pool: 64-place buffers first, then other sizes.
pub fn subjects() -> Vec<Box<dyn Subject>> {
    [64, 0, 1, 1024]
        .into_iter()
        .map(|n| Box::new(Buffered(n)) as Box<dyn Subject>)
        .collect()
}

/// Both buffers (jobs and results) of this many places. A reader thread takes the results
/// while the caller submits: with bounded buffers, nobody reading means nobody finishing.
pub struct Buffered(pub usize);

impl Subject for Buffered {
    fn name(&self) -> String {
        format!("buffered, buffers of {}", self.0)
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let buffers = Buffers {
            jobs: self.0,
            results: self.0,
        };
        let (pool, results) = BufferedPool::new(workers, buffers, move |i: u64| work.run(i))
            .map_err(|e| e.to_string())?;
        let reader = std::thread::spawn(move || results.iter().fold(0, u64::wrapping_add));
        for i in 0..jobs {
            pool.submit(i).map_err(|_| "submit handed a job back")?;
        }
        // Whatever the reader did not take, shutdown returns.
        let rest = pool.shutdown().into_iter().fold(0, u64::wrapping_add);
        let read = reader.join().map_err(|_| "the results reader panicked")?;
        Ok(Some(read.wrapping_add(rest)))
    }
}
