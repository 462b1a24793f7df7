//! A smoke run, cheap enough for `cargo test`: every subject (each reference pool used every
//! way the benches use it, and every alternative) runs a few jobs of each kind and gives the
//! right sum; the experiments run on tiny sizes and draw their charts. The measurements
//! themselves are `cargo bench -p workbook-benches`.

use bench_kit::report::Bench;
use bench_kit::stats::Rounds;
use bench_kit::{Subject, Work, time_per_job};

fn every_subject() -> Vec<Box<dyn Subject>> {
    let mut all: Vec<Box<dyn Subject>> = workbook_benches::references()
        .into_iter()
        .flat_map(|(_, s)| s)
        .collect();
    all.extend(bench_kit::alternatives::all());
    all.push(Box::new(bench_kit::alternatives::CrossbeamBatched(7)));
    all
}

#[test]
fn every_subject_runs_every_job_once() {
    for work in [Work::Tiny, Work::Spin(50), Work::Wait(1)] {
        for jobs in [0, 1, 37] {
            let expected = work.expected(jobs);
            for s in every_subject() {
                for workers in [1, 3] {
                    time_per_job(s.as_ref(), workers, jobs, work, expected).unwrap_or_else(|e| {
                        panic!("{} ({workers} workers, {jobs} jobs): {e}", s.name())
                    });
                }
            }
        }
    }
}

#[test]
fn a_wrong_sum_is_reported() {
    struct LosesOne;
    impl Subject for LosesOne {
        fn name(&self) -> String {
            "loses one".into()
        }
        fn run(&self, _: usize, jobs: u64, work: Work) -> Result<Option<u64>, String> {
            Ok(Some(
                (1..jobs).map(|i| work.run(i)).fold(0, u64::wrapping_add),
            ))
        }
    }
    let err = time_per_job(&LosesOne, 2, 10, Work::Tiny, Work::Tiny.expected(10)).unwrap_err();
    assert!(err.contains("a job was lost"), "{err}");
}

#[test]
fn the_experiments_print_tables_and_draw_charts() {
    let mut bench = Bench::new(Rounds {
        warm_up: 0,
        samples: 1,
    });
    bench.verbose = false;
    let basic = workbook_benches::basic::subjects();
    let seq = bench_kit::alternatives::Sequential;
    let list: Vec<&dyn Subject> = vec![&seq, basic[0].as_ref(), basic[1].as_ref()];
    bench
        .per_job("tiny", "Tiny", 2, 50, Work::Tiny, &list, 1, &[1])
        .unwrap();
    bench
        .speedup("coarse", "Coarse", 2, 10, Work::Spin(100), &list, 0, &[1])
        .unwrap();
    bench
        .sweep("sweep", "Sweep", &list[1..], &[1, 2], 4, Work::Wait(5))
        .unwrap();
    assert!(
        bench.text.contains("| basic, boxed closures |"),
        "{}",
        bench.text
    );
    let dir = std::env::temp_dir().join(format!("bench-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("all.svg");
    let panels: Vec<_> = bench.panels.into_iter().map(|(_, p)| p).collect();
    bench_kit::plot::draw(&svg, &panels).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("basic, boxed closures"),
        "{text:.300}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
