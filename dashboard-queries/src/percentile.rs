//! Summary statistics of durations (hours to respond, working days to reply, ...): count,
//! mean, median and 90th percentile, computed the same way everywhere on the dashboard.
//!
//! Percentiles use linear interpolation between closest ranks — Hyndman & Fan's type 7,
//! the default of R and NumPy and Excel's `PERCENTILE.INC`: for `n` sorted values
//! `x[0] <= .. <= x[n-1]` and `0 <= p <= 1`, let `h = (n - 1) * p`; the percentile is
//! `x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])`. So p = 0 is the
//! minimum, p = 1 the maximum, p = 0.5 the usual median (mean of the middle two for even
//! `n`), and for 1..=10 the 90th percentile is 9.1.

use serde::Serialize;

/// Count, mean, median and 90th percentile of a set of values; the statistics are `None`
/// when there are no values (a dashboard shows "—", not 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// Mean, median and 90th percentile (R-7 / `PERCENTILE.INC` interpolation, see the module
/// docs). The input may be in any order; NaN values are ignored and not counted. Empty
/// (or all NaN) → count 0 and every statistic `None`.
///
/// Takes the vector mutably to sort it in place instead of copying it: on return it holds
/// the non-NaN values in ascending order.
pub fn summarize(values: &mut Vec<f64>) -> Summary {
    values.retain(|v| !v.is_nan());
    // Unstable is enough: values that compare equal are the same bits.
    values.sort_unstable_by(f64::total_cmp);
    let count = values.len();
    let mean = if count == 0 {
        None
    } else {
        // A count of durations is far below 2^53, so the conversion is exact.
        Some(values.iter().sum::<f64>() / count as f64)
    };
    Summary {
        count: count as u64,
        mean,
        median: percentile_sorted(values, 0.5),
        p90: percentile_sorted(values, 0.9),
    }
}

/// The `p`-quantile (`p` in `[0, 1]`, e.g. 0.9 for the 90th percentile) of values already
/// sorted ascending and free of NaN, by R-7 / `PERCENTILE.INC` interpolation (see the
/// module docs). `None` when `sorted` is empty or `p` is outside `[0, 1]` or NaN.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lower = h.floor();
    let fraction = h - lower;
    // `h` lies in [0, n - 1], so `lower` is a valid index; `get` keeps this panic-free.
    let index = lower as usize;
    let below = *sorted.get(index)?;
    match sorted.get(index + 1) {
        // Skipping the interpolation on an exact rank keeps infinities from producing NaN.
        Some(&above) if fraction > 0.0 => Some(below + fraction * (above - below)),
        _ => Some(below),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_ten_has_mean_and_median_five_and_a_half_and_p90_nine_point_one() {
        let mut values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            summarize(&mut values),
            Summary {
                count: 10,
                mean: Some(5.5),
                median: Some(5.5),
                p90: Some(9.1)
            }
        );
    }

    #[test]
    fn no_values_give_count_zero_and_no_statistics() {
        let empty = Summary {
            count: 0,
            mean: None,
            median: None,
            p90: None,
        };
        assert_eq!(summarize(&mut Vec::new()), empty);
        assert_eq!(summarize(&mut vec![f64::NAN, f64::NAN]), empty);
    }

    #[test]
    fn unsorted_input_with_nan_is_sorted_and_the_nan_ignored() {
        let mut values = vec![4.0, f64::NAN, 1.0, 3.0, 2.0];
        assert_eq!(
            summarize(&mut values),
            Summary {
                count: 4,
                mean: Some(2.5),
                median: Some(2.5),
                p90: Some(3.7)
            }
        );
        assert_eq!(values, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn a_single_value_is_its_own_mean_median_and_p90() {
        assert_eq!(
            summarize(&mut vec![7.25]),
            Summary {
                count: 1,
                mean: Some(7.25),
                median: Some(7.25),
                p90: Some(7.25)
            }
        );
    }

    #[test]
    fn an_odd_count_has_the_middle_value_as_median() {
        let s = summarize(&mut vec![30.0, 10.0, 20.0, 100.0, 40.0]);
        assert_eq!(s.count, 5);
        assert_eq!(s.mean, Some(40.0));
        assert_eq!(s.median, Some(30.0));
        // h = 4 * 0.9 = 3.6 → 40 + 0.6 * (100 - 40) = 76.
        assert_eq!(s.p90, Some(76.0));
    }

    #[test]
    fn two_values_interpolate_between_them() {
        let s = summarize(&mut vec![20.0, 10.0]);
        assert_eq!(s.median, Some(15.0));
        assert_eq!(s.p90, Some(19.0));
    }

    #[test]
    fn p0_is_the_minimum_and_p1_the_maximum() {
        let sorted = [2.0, 3.0, 5.0, 8.0];
        assert_eq!(percentile_sorted(&sorted, 0.0), Some(2.0));
        assert_eq!(percentile_sorted(&sorted, 1.0), Some(8.0));
        // h = 3 * 0.5 = 1.5 → 3 + 0.5 * 2.
        assert_eq!(percentile_sorted(&sorted, 0.5), Some(4.0));
        // h = 3 * 0.25 = 0.75 → 2 + 0.75 * 1.
        assert_eq!(percentile_sorted(&sorted, 0.25), Some(2.75));
    }

    #[test]
    fn a_percentile_outside_zero_to_one_or_of_nothing_is_none() {
        assert_eq!(percentile_sorted(&[1.0, 2.0], 1.5), None);
        assert_eq!(percentile_sorted(&[1.0, 2.0], -0.1), None);
        assert_eq!(percentile_sorted(&[1.0, 2.0], f64::NAN), None);
        assert_eq!(percentile_sorted(&[], 0.5), None);
    }

    #[test]
    fn repeated_values_stay_exact() {
        let s = summarize(&mut vec![3.0; 7]);
        assert_eq!((s.mean, s.median, s.p90), (Some(3.0), Some(3.0), Some(3.0)));
    }

    #[test]
    fn an_infinite_maximum_does_not_turn_an_exact_rank_into_nan() {
        let sorted = [1.0, 2.0, f64::INFINITY];
        assert_eq!(percentile_sorted(&sorted, 0.5), Some(2.0));
        assert_eq!(percentile_sorted(&sorted, 1.0), Some(f64::INFINITY));
    }
}
