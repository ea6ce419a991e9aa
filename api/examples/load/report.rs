//! Per-level figures: throughput, latency percentiles, error rate, as Markdown tables
//! (pasted as they are into docs/OPERATIONS.md) or tab-separated rows (collected by
//! `scripts/bench-scale`).

use super::mix::Operation;
use std::collections::BTreeMap;
use std::time::Duration;

pub struct Sample {
    pub operation: Operation,
    pub latency: Duration,
    pub ok: bool,
}

pub struct Level {
    pub concurrency: usize,
    pub samples: Vec<Sample>,
    pub elapsed: Duration,
    /// Workers that panicked (their requests are missing from `samples`).
    pub lost_workers: usize,
}

impl Level {
    pub fn new(concurrency: usize) -> Self {
        Self {
            concurrency,
            samples: Vec::new(),
            elapsed: Duration::ZERO,
            lost_workers: 0,
        }
    }

    pub fn errors(&self) -> usize {
        self.samples.iter().filter(|s| !s.ok).count() + self.lost_workers
    }

    fn throughput(&self) -> f64 {
        self.samples.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    pub fn summary_line(&self) -> String {
        let latencies = latencies(self.samples.iter());
        format!(
            "load: c={:<3} {:>6} requests  {:>7.1} req/s  p50 {:>7.1} ms  p99 {:>7.1} ms  errors {}",
            self.concurrency,
            self.samples.len(),
            self.throughput(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            self.errors()
        )
    }
}

/// Sorted latencies in milliseconds.
fn latencies<'a>(samples: impl Iterator<Item = &'a Sample>) -> Vec<f64> {
    let mut ms: Vec<f64> = samples.map(|s| s.latency.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    ms
}

/// Nearest-rank percentile of sorted values; 0 for none.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One row a level.
pub fn table(levels: &[Level]) -> String {
    let mut out = String::from(
        "\n| concurrency | requests | throughput (req/s) | p50 (ms) | p99 (ms) | errors |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for level in levels {
        let ms = latencies(level.samples.iter());
        let rate = level.errors() as f64 / level.samples.len().max(1) as f64 * 100.0;
        out.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {} ({:.2} %) |\n",
            level.concurrency,
            level.samples.len(),
            level.throughput(),
            percentile(&ms, 0.50),
            percentile(&ms, 0.99),
            level.errors(),
            rate
        ));
    }
    out
}

/// One row an operation, at one level.
pub fn by_operation(level: &Level) -> String {
    let mut groups: BTreeMap<Operation, Vec<&Sample>> = BTreeMap::new();
    for sample in &level.samples {
        groups.entry(sample.operation).or_default().push(sample);
    }
    let mut out = format!(
        "\nAt concurrency {}, by operation:\n\n| operation | requests | p50 (ms) | p95 (ms) | p99 (ms) | errors |\n| --- | ---: | ---: | ---: | ---: | ---: |\n",
        level.concurrency
    );
    for (operation, samples) in groups {
        let ms = latencies(samples.iter().copied());
        out.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {} |\n",
            operation.name(),
            samples.len(),
            percentile(&ms, 0.50),
            percentile(&ms, 0.95),
            percentile(&ms, 0.99),
            samples.iter().filter(|s| !s.ok).count()
        ));
    }
    out
}

/// The columns of `tsv`, in order.
pub const TSV_HEADER: &str =
    "concurrency\toperation\trequests\treq_per_s\tp50_ms\tp95_ms\tp99_ms\terrors\n";

/// A header, then for every level one row per operation and one row `all` for the whole
/// level; an operation's req/s is its share of the level's throughput.
pub fn tsv(levels: &[Level]) -> String {
    let mut out = String::from(TSV_HEADER);
    for level in levels {
        let seconds = level.elapsed.as_secs_f64().max(f64::EPSILON);
        let mut groups: BTreeMap<Operation, Vec<&Sample>> = BTreeMap::new();
        for sample in &level.samples {
            groups.entry(sample.operation).or_default().push(sample);
        }
        let mut row = |name: &str, samples: &[&Sample], lost: usize| {
            let ms = latencies(samples.iter().copied());
            out.push_str(&format!(
                "{}\t{}\t{}\t{:.1}\t{:.1}\t{:.1}\t{:.1}\t{}\n",
                level.concurrency,
                name,
                samples.len(),
                samples.len() as f64 / seconds,
                percentile(&ms, 0.50),
                percentile(&ms, 0.95),
                percentile(&ms, 0.99),
                samples.iter().filter(|s| !s.ok).count() + lost
            ));
        };
        for (operation, samples) in &groups {
            row(operation.name(), samples, 0);
        }
        let all: Vec<&Sample> = level.samples.iter().collect();
        row("all", &all, level.lost_workers);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.50), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn tsv_has_a_row_per_operation_and_one_for_the_level() {
        let sample = |operation, ms, ok| Sample {
            operation,
            latency: Duration::from_millis(ms),
            ok,
        };
        let level = Level {
            concurrency: 2,
            samples: vec![
                sample(Operation::ProvinceStats, 10, true),
                sample(Operation::ProvinceStats, 30, true),
                sample(Operation::CaseList, 20, false),
            ],
            elapsed: Duration::from_secs(2),
            lost_workers: 0,
        };
        assert_eq!(
            tsv(&[level]),
            format!(
                "{TSV_HEADER}\
                 2\tProvinceStats\t2\t1.0\t10.0\t30.0\t30.0\t0\n\
                 2\tCaseList\t1\t0.5\t20.0\t20.0\t20.0\t1\n\
                 2\tall\t3\t1.5\t20.0\t30.0\t30.0\t1\n"
            )
        );
    }
}
