//! The 9 a.m. dashboard mix of `scripts/bench-scale`: what a provincial leader's office
//! opens, all over the same 12-month window (the current month and the 11 before it), as
//! in `scripts/bench`. Read-only, so a read replica may answer every request.

use super::mix::Operation;
use chrono::{Datelike, Months, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::{json, Value};

/// Each operation's share of the requests, in percent: the headline numbers and the
/// list are opened most, the ranking (the one question that still reads every case in
/// scope, docs/METRICS.md) least.
pub const WEIGHTS: &[(Operation, u32)] = &[
    (Operation::ProvinceStats, 25),
    (Operation::CityBreakdown, 15),
    (Operation::MonthlySeries, 15),
    (Operation::DepartmentRanking, 5),
    (Operation::OverdueList, 20),
    (Operation::CaseList, 20),
];

const STATS_FIELDS: &str = "received accepted rejected due repliedWhenDue replyRate onTimeRate \
    closed completionRate rated satisfied basicallySatisfied dissatisfied satisfactionRate \
    participationRate overdueNow";

/// One dashboard request: whether it needs the leader's key, its query, its variables.
pub struct Request {
    pub as_leader: bool,
    pub query: String,
    pub variables: Value,
}

/// The request for `operation` over `region`'s 12-month window, or `None` when
/// `operation` is not part of this mix.
pub fn request(operation: Operation, region: &str) -> Option<Request> {
    let (from, to) = twelve_months();
    let window = json!({ "r": region, "from": from, "to": to });
    let leader = |query: String, variables: Value| Request {
        as_leader: true,
        query,
        variables,
    };
    let sf = STATS_FIELDS;
    Some(match operation {
        Operation::ProvinceStats => leader(
            format!("query ProvinceStats($r:String,$from:DateTime!,$to:DateTime!){{ stats(scope:{{regionCode:$r}}, from:$from, to:$to) {{ {sf} }} }}"),
            window,
        ),
        Operation::CityBreakdown => leader(
            format!("query CityBreakdown($r:String,$from:DateTime!,$to:DateTime!){{ breakdown(by:REGION, scope:{{regionCode:$r}}, from:$from, to:$to) {{ key label stats {{ {sf} }} }} }}"),
            window,
        ),
        Operation::MonthlySeries => leader(
            format!("query MonthlySeries($r:String,$from:DateTime!,$to:DateTime!){{ timeSeries(interval:MONTH, scope:{{regionCode:$r}}, from:$from, to:$to) {{ start stats {{ {sf} }} }} }}"),
            window,
        ),
        Operation::DepartmentRanking => leader(
            "query DepartmentRanking($r:String,$from:DateTime!,$to:DateTime!){ ranking(unit:DEPARTMENT, scope:{regionCode:$r}, from:$from, to:$to, minCases:20) { rank unit { id name } score eligible stats { received replyRate onTimeRate satisfactionRate } } }".to_string(),
            window,
        ),
        Operation::OverdueList => leader(
            "query OverdueList($r:String){ cases(filter:{overdue:true, regionCode:$r}, first:20) { nodes { id title status } } }".to_string(),
            json!({ "r": region }),
        ),
        Operation::CaseList => Request {
            as_leader: false,
            query: "query CaseList { cases(first:20) { nodes { id title region { name } department { name } } } }".to_string(),
            variables: json!({}),
        },
        _ => return None,
    })
}

/// Midnight in Asia/Shanghai of the first of the month 11 months back, and of next
/// month's first: whole days as the rollup keeps them, so the region questions are
/// answered from it.
fn twelve_months() -> (String, String) {
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let to = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let from = first.checked_sub_months(Months::new(11)).unwrap_or(first);
    (midnight(from), midnight(to))
}

/// `day` 00:00 in Asia/Shanghai as RFC 3339 UTC (China has no daylight saving time, so
/// every local midnight exists exactly once).
fn midnight(day: NaiveDate) -> String {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let utc = Shanghai
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive));
    utc.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dashboard_operation_has_a_request_and_the_weights_sum_to_100() {
        assert_eq!(WEIGHTS.iter().map(|(_, w)| w).sum::<u32>(), 100);
        for (operation, _) in WEIGHTS {
            assert!(request(*operation, "510000").is_some(), "{operation:?}");
        }
        assert!(request(Operation::SubmitCase, "510000").is_none());
    }

    #[test]
    fn a_shanghai_midnight_is_four_pm_the_day_before_in_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(midnight(day), "2025-12-31T16:00:00Z");
    }
}
