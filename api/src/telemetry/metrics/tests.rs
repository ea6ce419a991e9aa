use super::*;

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

#[test]
fn a_fresh_application_reports_its_version_and_zero_statements() {
    let counters = Counters::new();
    let text = counters.render(None).expect("renders");
    assert_eq!(
        sample(
            &text,
            &format!(
                "minyi_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0)
    );
    assert_eq!(sample(&text, "minyi_db_statements_total"), Some(0.0));
    assert!(
        text.contains("# TYPE minyi_db_statements_total counter"),
        "{text}"
    );
}

#[test]
fn graphql_requests_are_counted_by_operation_and_outcome() {
    let counters = Counters::new();
    let outcome = |operation, error_code| GraphqlOutcome {
        request_id: "",
        operation,
        role: "public",
        error_code,
        duration: Duration::from_millis(3),
        cost: Some(120),
    };
    counters.observe_graphql(&outcome("Cases", None));
    counters.observe_graphql(&outcome("Cases", None));
    counters.observe_graphql(&outcome("Cases", Some("FORBIDDEN")));
    counters.observe_graphql(&outcome("", Some("made up code")));
    counters.observe_graphql(&outcome("{ cases }", None));
    let text = counters.render(None).expect("renders");
    let requests =
        |labels: &str| sample(&text, &format!("minyi_graphql_requests_total{{{labels}}}"));
    assert_eq!(requests(r#"operation="Cases",outcome="ok""#), Some(2.0));
    assert_eq!(
        requests(r#"operation="Cases",outcome="FORBIDDEN""#),
        Some(1.0)
    );
    assert_eq!(
        requests(r#"operation="anonymous",outcome="invalid""#),
        Some(1.0)
    );
    assert_eq!(requests(r#"operation="invalid",outcome="ok""#), Some(1.0));
    assert_eq!(
        sample(
            &text,
            r#"minyi_graphql_request_duration_seconds_bucket{operation="Cases",le="0.005"}"#
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(&text, r#"minyi_graphql_request_cost_bucket{le="250"}"#),
        Some(5.0)
    );
}

#[test]
fn operation_names_past_the_cap_are_counted_as_other() {
    let counters = Counters::new();
    for i in 0..OPERATION_LABELS + 10 {
        counters.observe_graphql(&GraphqlOutcome {
            request_id: "",
            operation: &format!("Op{i}"),
            role: "public",
            error_code: None,
            duration: Duration::ZERO,
            cost: None,
        });
    }
    let text = counters.render(None).expect("renders");
    let series = text
        .lines()
        .filter(|l| l.starts_with("minyi_graphql_requests_total{"))
        .count();
    assert_eq!(series, OPERATION_LABELS + 1);
    assert_eq!(
        sample(
            &text,
            r#"minyi_graphql_requests_total{operation="other",outcome="ok"}"#
        ),
        Some(10.0)
    );
}

#[test]
fn pool_use_and_refusals_are_reported() {
    let counters = Counters::new();
    counters.observe_rate_limited("ip");
    counters.observe_rate_limited("ip");
    counters.observe_rate_limited("key");
    counters.observe_http("/open311/v2/requests/:id", 404, Duration::from_millis(2));
    counters.db_statements.fetch_add(7, Ordering::Relaxed);
    let text = counters
        .render(Some(PoolUse {
            in_use: 2,
            idle: 3,
            max: 8,
        }))
        .expect("renders");
    assert_eq!(
        sample(&text, r#"minyi_rate_limited_total{kind="ip"}"#),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, r#"minyi_rate_limited_total{kind="key"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"minyi_http_requests_total{route="/open311/v2/requests/:id",status="404"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"minyi_db_pool_connections{state="in_use"}"#),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, r#"minyi_db_pool_connections{state="idle"}"#),
        Some(3.0)
    );
    assert_eq!(sample(&text, "minyi_db_pool_max_connections"), Some(8.0));
    assert_eq!(sample(&text, "minyi_db_statements_total"), Some(7.0));
}

#[test]
fn job_runs_are_counted_by_outcome_and_a_run_sets_the_last_success() {
    let counters = Counters::new();
    counters.observe_job_run("supervise_overdue", "skipped_taken_by_other");
    counters.observe_job_run("supervise_overdue", "ran");
    counters.observe_job_run("supervise_overdue", "ran");
    counters.observe_job_run("prune_job_runs", "failed");
    let text = counters.render(None).expect("renders");
    let runs = |labels: &str| sample(&text, &format!("minyi_job_runs_total{{{labels}}}"));
    assert_eq!(runs(r#"job="supervise_overdue",outcome="ran""#), Some(2.0));
    assert_eq!(
        runs(r#"job="supervise_overdue",outcome="skipped_taken_by_other""#),
        Some(1.0)
    );
    assert_eq!(runs(r#"job="prune_job_runs",outcome="failed""#), Some(1.0));
    let last = sample(
        &text,
        r#"minyi_job_last_success_timestamp_seconds{job="supervise_overdue"}"#,
    )
    .expect("a last success");
    assert!(last > 1.7e9, "{last}");
    assert_eq!(
        sample(
            &text,
            r#"minyi_job_last_success_timestamp_seconds{job="prune_job_runs"}"#
        ),
        None
    );
}
