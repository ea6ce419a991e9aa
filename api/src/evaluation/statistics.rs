//! The statistics of a closed panel, in plain Rust: Student's t quantiles, a mean with
//! its 95 % t-interval, and Krippendorff's alpha for interval data.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: ~15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the series in its accurate range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the regularised incomplete beta function (modified Lentz).
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p` quantile of Student's t with `df` degrees of freedom (0.5 < p < 1), by
/// bisection on the CDF to 1e-12.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    while hi - lo > 1e-12 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// A mean with its two-sided 95 % t-interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanInterval {
    pub n: usize,
    pub mean: f64,
    /// `None` with fewer than two values (no spread to estimate).
    pub interval: Option<(f64, f64)>,
}

/// The mean of `values` and its 95 % confidence interval mean ± t₀.₉₇₅,ₙ₋₁ · s/√n
/// (s the sample standard deviation). `None` for no values.
pub fn mean_interval(values: &[f64]) -> Option<MeanInterval> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let interval = (n >= 2).then(|| {
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let half = t_quantile(0.975, (n - 1) as f64) * (var / n as f64).sqrt();
        (mean - half, mean + half)
    });
    Some(MeanInterval { n, mean, interval })
}

/// Krippendorff's alpha with the interval metric δ² = (c − k)², from reliability data
/// given as units, each the values its coders gave (missing values simply absent).
///
/// α = 1 − D_o / D_e over the pairable values (units with at least two values):
/// D_o = (1/n) Σ_u (1/(m_u − 1)) Σ_{i≠j in u} (v_i − v_j)², and
/// D_e = (1/(n(n − 1))) Σ_{i≠j over all n pairable values} (v_i − v_j)².
/// (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability", the coincidence
/// form written over values.) `None` when fewer than two units are pairable or the
/// values do not vary at all (D_e = 0: agreement is undefined, not perfect).
pub fn krippendorff_alpha_interval(units: &[Vec<f64>]) -> Option<f64> {
    let pairable: Vec<&Vec<f64>> = units.iter().filter(|u| u.len() >= 2).collect();
    if pairable.len() < 2 {
        return None;
    }
    let values: Vec<f64> = pairable.iter().flat_map(|u| u.iter().copied()).collect();
    let n = values.len() as f64;
    // Σ_{i≠j} (v_i − v_j)² = 2 (m Σv² − (Σv)²), for any m values.
    let spread = |vs: &[f64]| {
        let m = vs.len() as f64;
        let sum: f64 = vs.iter().sum();
        let squares: f64 = vs.iter().map(|v| v * v).sum();
        2.0 * (m * squares - sum * sum)
    };
    let observed: f64 = pairable
        .iter()
        .map(|u| spread(u) / (u.len() as f64 - 1.0))
        .sum::<f64>()
        / n;
    let expected = spread(&values) / (n * (n - 1.0));
    (expected > 1e-12).then(|| 1.0 - observed / expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    /// Two-sided 95 % critical values from the standard t table.
    #[test]
    fn t_quantiles_match_the_table() {
        for (df, want) in [
            (1.0, 12.706),
            (2.0, 4.303),
            (3.0, 3.182),
            (5.0, 2.571),
            (10.0, 2.228),
            (20.0, 2.086),
            (30.0, 2.042),
            (120.0, 1.980),
        ] {
            let got = t_quantile(0.975, df);
            assert!(close(got, want, 5e-4), "df {df}: {got} vs {want}");
        }
        assert!(close(t_quantile(0.975, 1e6), 1.960, 5e-4));
        assert!(close(t_quantile(0.95, 10.0), 1.812, 5e-4));
    }

    #[test]
    fn the_t_cdf_is_symmetric_and_one_half_at_zero() {
        assert!(close(t_cdf(0.0, 7.0), 0.5, 1e-12));
        assert!(close(t_cdf(-2.0, 7.0) + t_cdf(2.0, 7.0), 1.0, 1e-12));
    }

    #[test]
    fn the_interval_is_the_mean_plus_minus_t_times_the_standard_error() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, s = √(32/7), t(0.975, 7) = 2.364624.
        let m = mean_interval(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("values");
        assert_eq!(m.n, 8);
        assert!(close(m.mean, 5.0, 1e-12));
        let half = 2.364_624 * (32.0_f64 / 7.0 / 8.0).sqrt();
        let (lo, hi) = m.interval.expect("n ≥ 2");
        assert!(close(lo, 5.0 - half, 1e-5) && close(hi, 5.0 + half, 1e-5));
        let one = mean_interval(&[3.5]).expect("one value");
        assert_eq!((one.mean, one.interval), (3.5, None));
        assert!(mean_interval(&[]).is_none());
    }

    /// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
    /// four observers A–D, twelve units, values 1–5, missing data. The paper gives
    /// α_nominal = 0.743, α_ordinal = 0.815, α_interval = 0.849, α_ratio = 0.797.
    #[test]
    fn alpha_matches_krippendorffs_reliability_data_example() {
        let na = f64::NAN;
        let observers: [[f64; 12]; 4] = [
            [1., 2., 3., 3., 2., 1., 4., 1., 2., na, na, na],
            [1., 2., 3., 3., 2., 2., 4., 1., 2., 5., na, 3.],
            [na, 3., 3., 3., 2., 3., 4., 2., 2., 5., 1., na],
            [1., 2., 3., 3., 2., 4., 4., 1., 2., 5., 1., na],
        ];
        let units: Vec<Vec<f64>> = (0..12)
            .map(|u| {
                observers
                    .iter()
                    .map(|o| o[u])
                    .filter(|v| !v.is_nan())
                    .collect()
            })
            .collect();
        let alpha = krippendorff_alpha_interval(&units).expect("pairable");
        assert!(close(alpha, 0.849, 5e-4), "alpha {alpha}");
    }

    /// Perfect agreement is 1; coders who agree no better than chance are about 0;
    /// systematic disagreement is negative.
    #[test]
    fn alpha_is_one_for_perfect_agreement_and_negative_for_systematic_disagreement() {
        let perfect = vec![vec![1.0, 1.0], vec![3.0, 3.0], vec![5.0, 5.0, 5.0]];
        assert_eq!(krippendorff_alpha_interval(&perfect), Some(1.0));
        let opposite = vec![vec![1.0, 5.0], vec![5.0, 1.0], vec![1.0, 5.0]];
        let alpha = krippendorff_alpha_interval(&opposite).expect("pairable");
        assert!(alpha < 0.0, "alpha {alpha}");
        // Units (1, 1) and (1, 3): n = 4, D_o = (0 + 8/1)/4 = 2 and
        // D_e = 2·(4·12 − 6²)/(4·3) = 2, so α = 0.
        let chance = vec![vec![1.0, 1.0], vec![1.0, 3.0]];
        let alpha = krippendorff_alpha_interval(&chance).expect("pairable");
        assert!(close(alpha, 0.0, 1e-12), "alpha {alpha}");
    }

    #[test]
    fn alpha_is_undefined_without_pairable_units_or_variation() {
        assert_eq!(krippendorff_alpha_interval(&[vec![1.0, 2.0]]), None);
        assert_eq!(krippendorff_alpha_interval(&[vec![1.0], vec![2.0]]), None);
        assert_eq!(
            krippendorff_alpha_interval(&[vec![4.0, 4.0], vec![4.0, 4.0]]),
            None
        );
    }
}
