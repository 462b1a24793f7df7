//! Warm-up, interleaved rounds, medians and spreads.
//!
//! Cases are measured in rounds: one sample of every case per round, so a slow moment of the
//! machine (another build starting) hits every case of that round alike. Each round starts
//! one case later than the one before, so no case always follows the same neighbour.
//! A ratio is taken **within each round** (case / baseline of the same round) and then
//! summarised, which cancels most of the drift that separate runs would not.

use std::fmt;

/// The median and the spread (smallest and largest) of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// # Panics
    /// On an empty slice.
    pub fn of(samples: &[f64]) -> Summary {
        assert!(!samples.is_empty(), "no samples to summarise");
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }
}

impl fmt::Display for Summary {
    /// `62.1 [60.3–70.2]`, with as many decimals as the size calls for.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}–{}]",
            short(self.median),
            short(self.min),
            short(self.max)
        )
    }
}

/// A number with three significant digits or so: 1234, 123, 12.3, 1.23, 0.123.
pub fn short(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// How many rounds to run.
#[derive(Clone, Copy, Debug)]
pub struct Rounds {
    /// Rounds run and thrown away first (threads started, caches and allocator warm).
    pub warm_up: usize,
    /// Rounds kept.
    pub samples: usize,
}

/// One case's samples and its ratios to the baseline, round by round.
#[derive(Clone, Debug)]
pub struct Measured {
    pub name: String,
    pub samples: Vec<f64>,
    /// `samples[r] / baseline.samples[r]` for each round `r`.
    pub ratios: Vec<f64>,
}

impl Measured {
    pub fn value(&self) -> Summary {
        Summary::of(&self.samples)
    }
    pub fn ratio(&self) -> Summary {
        Summary::of(&self.ratios)
    }
}

/// A case: a name and a closure that returns one sample (or why it could not).
pub type Case<'a> = (String, Box<dyn Fn() -> Result<f64, String> + 'a>);

/// Runs `cases` in interleaved rounds; ratios are to `cases[baseline]`.
///
/// # Errors
/// The first error a case reports (the measurement stops there).
pub fn measure(
    cases: &[Case<'_>],
    baseline: usize,
    rounds: Rounds,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<Measured>, String> {
    for _ in 0..rounds.warm_up {
        for (_, case) in cases {
            case()?;
        }
    }
    let mut samples = vec![Vec::with_capacity(rounds.samples); cases.len()];
    let n = cases.len();
    for round in 0..rounds.samples {
        progress(round, rounds.samples);
        // Each round starts one case later, so no case always runs right after the same
        // other case (a pool whose threads are still winding down slows the next one).
        for k in 0..n {
            let i = (round + k) % n;
            samples[i].push((cases[i].1)()?);
        }
    }
    let base = samples[baseline].clone();
    Ok(cases
        .iter()
        .zip(samples)
        .map(|((name, _), samples)| Measured {
            name: name.clone(),
            ratios: samples.iter().zip(&base).map(|(s, b)| s / b).collect(),
            samples,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_spreads() {
        let s = Summary::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Summary::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
    }

    #[test]
    fn ratios_are_taken_within_each_round() {
        let ticks = std::cell::Cell::new(0.0);
        let cases: Vec<Case<'_>> = vec![
            (
                "base".into(),
                Box::new(|| {
                    ticks.set(ticks.get() + 1.0);
                    Ok(ticks.get())
                }),
            ),
            ("double".into(), Box::new(|| Ok(ticks.get() * 2.0))),
        ];
        let m = measure(
            &cases,
            0,
            Rounds {
                warm_up: 1,
                samples: 3,
            },
            |_, _| {},
        )
        .unwrap();
        // Round 1 runs the base first, round 2 the double first, round 3 the base first.
        assert_eq!(m[0].samples, vec![2.0, 3.0, 4.0]);
        assert_eq!(m[1].samples, vec![4.0, 4.0, 8.0]);
        assert_eq!(m[1].ratios, vec![2.0, 4.0 / 3.0, 2.0]);
    }
}
