//! The request mix: what a public portal, leader dashboards and citizens send, in the
//! proportions of a read-heavy day (reads ≈ 90 %, submissions ≈ 10 %), or the 9 a.m.
//! dashboard mix of `dashboard.rs`. Requests go to the instances round-robin.

use super::dashboard;
use super::target::{Args, MixKind};
use super::BoxError;
use chrono::{Duration as Days, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    PublicCases,
    PublicCase,
    DashboardStats,
    DashboardBreakdown,
    DashboardSeries,
    DashboardRanking,
    SubmitCase,
    ProvinceStats,
    CityBreakdown,
    MonthlySeries,
    DepartmentRanking,
    OverdueList,
    CaseList,
}

/// Each operation's share of the day's requests, in percent.
const DAY_WEIGHTS: &[(Operation, u32)] = &[
    (Operation::PublicCases, 30),
    (Operation::PublicCase, 25),
    (Operation::DashboardStats, 15),
    (Operation::DashboardBreakdown, 8),
    (Operation::DashboardSeries, 7),
    (Operation::DashboardRanking, 5),
    (Operation::SubmitCase, 10),
];

const PUBLIC_CASES: &str = "query PublicCases($region: String!) { cases(first: 20, filter: { regionCode: $region }) { totalCount pageInfo { hasNextPage endCursor } nodes { id trackingNumber title status submittedAt region { name } category { name } } } }";
const PUBLIC_CASE: &str = "query PublicCase($id: ID!) { case(id: $id) { id trackingNumber title body status submittedAt repliedAt reply region { name } department { name } events { at action toStatus } rating { level } } }";
const STATS_FIELDS: &str = "received accepted due replyRate onTimeRate completionRate satisfactionRate overdueNow replyHours { mean median p90 }";
const SUBMIT: &str = "mutation SubmitCase($input: SubmitCaseInput!) { submitCase(input: $input) { case { id trackingNumber } } }";

/// A worker's own deterministic random numbers.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub struct Mix {
    /// `…/graphql` of every instance.
    endpoints: Vec<String>,
    /// The next request's instance (modulo their number), shared by all workers.
    next_endpoint: AtomicUsize,
    kind: MixKind,
    key: String,
    /// The scope and its child regions (the dashboards' and lists' regions).
    regions: Vec<String>,
    /// Published cases the public can open.
    pub case_ids: Vec<String>,
}

impl Mix {
    /// Reads the regions and some published case ids the mix picks from.
    pub async fn prepare(client: &reqwest::Client, args: &Args) -> Result<Mix, BoxError> {
        let mut mix = Mix {
            endpoints: args
                .urls
                .iter()
                .map(|url| format!("{url}/graphql"))
                .collect(),
            next_endpoint: AtomicUsize::new(0),
            kind: args.mix,
            key: args.key.clone(),
            regions: vec![args.region.clone()],
            case_ids: Vec::new(),
        };
        let children = mix
            .post(
                client,
                None,
                "query Children($code: String!) { regions(parentCode: $code) { code } }",
                json!({ "code": args.region }),
            )
            .await?;
        mix.regions.extend(
            children["regions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["code"].as_str().map(str::to_string)),
        );
        let cases = mix
            .post(client, None, "query Ids($region: String!) { cases(first: 100, filter: { regionCode: $region }) { nodes { id } } }", json!({ "region": args.region }))
            .await?;
        mix.case_ids = cases["cases"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect();
        if mix.case_ids.is_empty() {
            return Err(format!(
                "no published case in {}: seed the database first",
                args.region
            )
            .into());
        }
        Ok(mix)
    }

    pub fn pick(&self, rng: &mut ChaCha8Rng) -> Operation {
        let weights = match self.kind {
            MixKind::Day => DAY_WEIGHTS,
            MixKind::Dashboard => dashboard::WEIGHTS,
        };
        let total: u32 = weights.iter().map(|(_, w)| w).sum();
        let mut roll = rng.random_range(0..total);
        for &(operation, weight) in weights {
            if roll < weight {
                return operation;
            }
            roll -= weight;
        }
        weights[0].0
    }

    /// Sends one request of `operation`; `Err` for a transport error, a status other
    /// than 200 or a response with errors.
    pub async fn send(
        &self,
        client: &reqwest::Client,
        operation: Operation,
        rng: &mut ChaCha8Rng,
    ) -> Result<Value, BoxError> {
        let region = self.regions[rng.random_range(0..self.regions.len())].clone();
        let scope = json!({ "regionCode": region });
        // Whole days up to today (UTC midnight), one to twelve months back.
        let to = Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(Utc::now);
        let from = to - Days::days(30 * rng.random_range(1..=12));
        let window = |extra: Value| {
            let mut vars =
                json!({ "scope": scope, "from": from.to_rfc3339(), "to": to.to_rfc3339() });
            if let (Some(vars), Value::Object(extra)) = (vars.as_object_mut(), extra) {
                vars.extend(extra);
            }
            vars
        };
        let leader = Some(self.key.as_str());
        if self.kind == MixKind::Dashboard {
            // The dashboard mix always asks about the scope itself (the province).
            let request = dashboard::request(operation, &self.regions[0])
                .ok_or_else(|| format!("{} is not a dashboard operation", operation.name()))?;
            let key = request.as_leader.then_some(self.key.as_str());
            return self
                .post(client, key, &request.query, request.variables)
                .await;
        }
        match operation {
            Operation::PublicCases => {
                self.post(client, None, PUBLIC_CASES, json!({ "region": region }))
                    .await
            }
            Operation::PublicCase => {
                let id = &self.case_ids[rng.random_range(0..self.case_ids.len())];
                self.post(client, None, PUBLIC_CASE, json!({ "id": id }))
                    .await
            }
            Operation::DashboardStats => {
                let query = format!("query DashboardStats($scope: ScopeInput, $from: DateTime!, $to: DateTime!) {{ stats(scope: $scope, from: $from, to: $to) {{ {STATS_FIELDS} }} }}");
                self.post(client, leader, &query, window(json!({}))).await
            }
            Operation::DashboardBreakdown => {
                let query = format!("query DashboardBreakdown($scope: ScopeInput, $from: DateTime!, $to: DateTime!) {{ breakdown(by: REGION, scope: $scope, from: $from, to: $to) {{ key label stats {{ {STATS_FIELDS} }} }} }}");
                self.post(client, leader, &query, window(json!({}))).await
            }
            Operation::DashboardSeries => {
                let query = "query DashboardSeries($scope: ScopeInput, $from: DateTime!, $to: DateTime!) { timeSeries(interval: MONTH, scope: $scope, from: $from, to: $to) { start stats { received replyRate satisfactionRate } } }";
                self.post(client, leader, query, window(json!({}))).await
            }
            Operation::DashboardRanking => {
                let query = "query DashboardRanking($scope: ScopeInput, $from: DateTime!, $to: DateTime!) { ranking(unit: DEPARTMENT, scope: $scope, from: $from, to: $to) { rank unit { id name } score eligible } }";
                self.post(client, leader, query, window(json!({}))).await
            }
            Operation::SubmitCase => {
                let phone = format!("139{:08}", rng.random_range(0..100_000_000u32));
                let input = json!({
                    "title": "小区路灯不亮",
                    "body": "小区门口的路灯坏了一周，晚上出行很不安全，请尽快维修。",
                    "channel": "WEBSITE",
                    "kind": "COMPLAINT",
                    "categoryId": null,
                    "regionCode": region,
                    "citizen": { "name": "王五", "phone": phone, "idNumber": null }
                });
                self.post(client, None, SUBMIT, json!({ "input": input }))
                    .await
            }
            other => Err(format!("{} is not part of the day's mix", other.name()).into()),
        }
    }

    /// POSTs one operation and returns its `data`.
    async fn post(
        &self,
        client: &reqwest::Client,
        key: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, BoxError> {
        let turn = self.next_endpoint.fetch_add(1, Ordering::Relaxed);
        let mut request = client
            .post(&self.endpoints[turn % self.endpoints.len()])
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        let has_errors = body
            .get("errors")
            .is_some_and(|e| e.as_array().is_some_and(|e| !e.is_empty()));
        if !status.is_success() || has_errors {
            let code = body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("?");
            let message = body["errors"][0]["message"].as_str().unwrap_or("");
            return Err(format!("HTTP {status}, {code}: {message}").into());
        }
        body.get("data")
            .cloned()
            .ok_or_else(|| "a response without data".into())
    }
}
