//! Which cells answer a region question: whole Shanghai months read the monthly region
//! cells (`case_rollup_monthly`), other whole days the daily ones. Their answers equal
//! the naive computation in `property.rs`; here, emptying one table shows which one a
//! question read.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use dashboard_queries::{stats, Scope, StatsFilter, Window};
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn whole_months_read_the_monthly_cells_and_other_days_the_daily_ones() {
    for t in databases().await {
        let cats = categories(&t.db).await;
        insert(&t.db, &generate(11, 120, cats)).await;
        let local = |m: u32, d: u32| {
            Utc.with_ymd_and_hms(2025, m, d, 0, 0, 0).unwrap() - Duration::hours(8)
        };
        let now = Utc::now();
        // March and April 2025 in Shanghai; and March 2 to May 1, whole days only.
        let months = Window::new(local(3, 1), local(5, 1), Some(now)).unwrap();
        let days = Window::new(local(3, 2), local(5, 1), Some(now)).unwrap();
        let sichuan = Scope {
            region_code: Some("510000".into()),
            department_id: None,
        };
        let f = StatsFilter::default();
        let by_month = stats(&t.db, &sichuan, &f, &months).await.unwrap();
        let by_day = stats(&t.db, &sichuan, &f, &days).await.unwrap();
        assert!(
            by_month.received > by_day.received,
            "{}: March 1 has cases",
            t.name
        );
        assert!(by_day.received > 0, "{}", t.name);

        t.db.execute_unprepared("DELETE FROM case_rollup_monthly")
            .await
            .unwrap();
        let months_without = stats(&t.db, &sichuan, &f, &months).await.unwrap();
        assert_eq!(
            months_without.received, 0,
            "{}: the months read the monthly cells",
            t.name
        );
        let days_without = stats(&t.db, &sichuan, &f, &days).await.unwrap();
        assert_eq!(days_without, by_day, "{}: the days did not", t.name);
    }
}
