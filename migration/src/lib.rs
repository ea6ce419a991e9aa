//! Schema migrations of minyi and the loaders of the reference data that ships inside
//! the project (regions, holidays, categories, default deadline policies).

pub use sea_orm_migration::prelude::*;
pub use sea_orm_migration::MigratorTrait;

mod m20261126_000001_create_tables;
mod m20261126_000002_load_reference_data;
mod m20261126_000003_metrics_indexes;
pub mod m20261126_000004_case_rollup;
mod m20261126_000005_open_data_columns;
mod m20261126_000006_evaluation_panels;
mod m20261126_000007_releases;
pub mod m20261126_000008_partition_cases;
mod m20261126_000009_case_event_notify;
mod m20261126_000010_job_runs;
pub mod m20261126_000011_department_rollup;
mod m20261126_000012_touched_after_indexes;
pub mod m20261126_000013_department_ranking_indexes;
mod m20261127_000014_city_breakdown_index;
pub mod m20261127_000015_deadline_ahead_index;
pub mod m20261127_000016_drop_event_action_index;
pub mod m20261127_000017_published_list_index;
pub mod m20261127_000018_published_list_index_literal;
pub mod m20261127_000019_monthly_rollup;
pub mod m20261128_000020_deadline_rollup;
pub mod m20261128_000021_published_list_index_one_key;
pub mod m20261128_000022_ahead_index_by_province;
pub mod partitioning;
pub mod reference;
pub mod rollups;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_tables::Migration),
            Box::new(m20261126_000002_load_reference_data::Migration),
            Box::new(m20261126_000003_metrics_indexes::Migration),
            Box::new(m20261126_000004_case_rollup::Migration),
            Box::new(m20261126_000005_open_data_columns::Migration),
            Box::new(m20261126_000006_evaluation_panels::Migration),
            Box::new(m20261126_000007_releases::Migration),
            Box::new(m20261126_000008_partition_cases::Migration),
            Box::new(m20261126_000009_case_event_notify::Migration),
            Box::new(m20261126_000010_job_runs::Migration),
            Box::new(m20261126_000011_department_rollup::Migration),
            Box::new(m20261126_000012_touched_after_indexes::Migration),
            Box::new(m20261126_000013_department_ranking_indexes::Migration),
            Box::new(m20261127_000014_city_breakdown_index::Migration),
            Box::new(m20261127_000015_deadline_ahead_index::Migration),
            Box::new(m20261127_000016_drop_event_action_index::Migration),
            Box::new(m20261127_000017_published_list_index::Migration),
            Box::new(m20261127_000018_published_list_index_literal::Migration),
            Box::new(m20261127_000019_monthly_rollup::Migration),
            Box::new(m20261128_000020_deadline_rollup::Migration),
            Box::new(m20261128_000021_published_list_index_one_key::Migration),
            Box::new(m20261128_000022_ahead_index_by_province::Migration),
        ]
    }
}
