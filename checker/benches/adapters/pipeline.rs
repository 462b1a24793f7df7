//! Exercise 10's pipeline as a bench subject.
//!
//! `super::pipeline` is the crate under test: the reference solution in
//! `cargo bench -p workbook-benches`, your crate in `cargo checker bench pipeline`.

use bench_kit::{Subject, Work};

use super::pipeline::Pipeline;

/// Every way this bench uses the pipeline: one stage of `workers` workers first, then the
/// same work followed by a second, pass-through stage, then the first stage in order.
pub fn subjects() -> Vec<Box<dyn Subject>> {
    vec![
        Box::new(Stages {
            two: false,
            ordered: false,
        }),
        Box::new(Stages {
            two: true,
            ordered: false,
        }),
        Box::new(Stages {
            two: false,
            ordered: true,
        }),
    ]
}

/// Links of 64 places.
pub struct Stages {
    pub two: bool,
    pub ordered: bool,
}

const LINK: usize = 64;

impl Subject for Stages {
    fn name(&self) -> String {
        match (self.two, self.ordered) {
            (false, false) => "pipeline".into(),
            (true, _) => "pipeline, two stages".into(),
            (false, true) => "pipeline, ordered".into(),
        }
    }
    fn run(&self, workers: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
        let first = Pipeline::<u64, u64, ()>::new(LINK)
            .stage(workers, LINK, move |i: u64| Ok::<u64, ()>(work.run(i)));
        let built = if self.two {
            first.stage(workers, LINK, Ok::<u64, ()>).build()
        } else if self.ordered {
            first.ordered().build()
        } else {
            first.build()
        };
        let (mut input, output) = built.map_err(|e| format!("{e:?}"))?;
        // The links are bounded: the output is read while the input is fed.
        let reader = std::thread::spawn(move || {
            let mut sum = 0u64;
            for item in output {
                match item {
                    Ok(v) => sum = sum.wrapping_add(v),
                    Err(_) => return Err("a stage failed on a job that cannot fail".to_string()),
                }
            }
            Ok(sum)
        });
        for i in 0..jobs {
            input.send(i).map_err(|_| "the input refused an item")?;
        }
        input.close();
        let sum = reader.join().map_err(|_| "the reader panicked")??;
        Ok(Some(sum))
    }
}
