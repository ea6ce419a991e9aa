//! The driver's arguments, and the rule that it only ever talks to this machine.

use super::BoxError;
use std::net::IpAddr;

pub struct Args {
    /// `http://127.0.0.1:<port>` of each instance, no trailing slash; requests go to them
    /// round-robin (the way a load balancer in front of API replicas spreads them).
    pub urls: Vec<String>,
    /// A leader key for the dashboards (its scope must include `region`).
    pub key: String,
    /// The dashboards' scope and the public lists' region filter.
    pub region: String,
    pub levels: Vec<usize>,
    pub seconds: u64,
    pub mix: MixKind,
    pub report: ReportFormat,
}

/// Which requests the workers send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixKind {
    /// A read-heavy day: public lists and cases, dashboards, submissions (`scripts/load`).
    Day,
    /// Only what a leader's office opens at 9 a.m.: province stats, breakdown by city,
    /// 12-month series, department ranking, overdue list, the 20-case list
    /// (`scripts/bench-scale`). Read-only, so replicas can serve all of it.
    Dashboard,
}

/// How the figures are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Markdown tables, pasted as they are into the docs.
    Markdown,
    /// One tab-separated row per level and operation, for scripts to collect.
    Tsv,
}

impl Args {
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, BoxError> {
        let mut args = Args {
            urls: Vec::new(),
            key: String::new(),
            region: "510000".into(),
            levels: vec![1, 4, 16, 64],
            seconds: 12,
            mix: MixKind::Day,
            report: ReportFormat::Markdown,
        };
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                // Repeated or comma-separated: several instances.
                "--url" => args.urls.extend(
                    value()?
                        .split(',')
                        .map(|url| url.trim().trim_end_matches('/').to_string())
                        .filter(|url| !url.is_empty()),
                ),
                "--mix" => {
                    args.mix = match value()?.as_str() {
                        "day" => MixKind::Day,
                        "dashboard" => MixKind::Dashboard,
                        other => {
                            return Err(format!("--mix {other:?}: expected day or dashboard").into())
                        }
                    }
                }
                "--report" => {
                    args.report = match value()?.as_str() {
                        "markdown" => ReportFormat::Markdown,
                        "tsv" => ReportFormat::Tsv,
                        other => {
                            return Err(
                                format!("--report {other:?}: expected markdown or tsv").into()
                            )
                        }
                    }
                }
                "--key" => args.key = value()?,
                "--region" => args.region = value()?,
                "--seconds" => args.seconds = value()?.parse()?,
                "--levels" => {
                    args.levels = value()?
                        .split(',')
                        .map(|n| n.trim().parse::<usize>())
                        .collect::<Result<_, _>>()?
                }
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        if args.urls.is_empty() || args.key.is_empty() {
            return Err("--url and --key are required".into());
        }
        if args.levels.is_empty() || args.levels.iter().any(|&c| c == 0 || c > 1024) {
            return Err("--levels takes concurrencies from 1 to 1024, e.g. 1,4,16,64".into());
        }
        if !(1..=600).contains(&args.seconds) {
            return Err("--seconds takes 1 to 600 seconds per level".into());
        }
        for url in &args.urls {
            refuse_non_loopback(url)?;
        }
        Ok(args)
    }
}

/// Load goes to this machine only: 127.0.0.0/8, ::1 or `localhost`.
pub fn refuse_non_loopback(url: &str) -> Result<(), BoxError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("--url {url:?}: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if loopback && parsed.scheme() == "http" {
        Ok(())
    } else {
        Err(format!(
            "--url {url:?} is not http:// on loopback (127.0.0.0/8, [::1], localhost): refused"
        )
        .into())
    }
}
