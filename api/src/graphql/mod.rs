//! The one GraphQL schema all three audiences share: one module per domain, merged.

mod admin;
mod case;
pub mod cases;
mod category;
pub mod context;
pub mod cursor;
mod department;
mod evaluation;
mod guarded;
mod ids;
mod live;
pub mod loaders;
pub mod newest_first;
pub mod page_relations;
mod region;
mod stats;
mod viewer;
mod workflow;

use crate::config::Limits;
use async_graphql::{MergedObject, MergedSubscription, Schema, ValidationMode};
use sea_orm::DatabaseConnection;

pub use guarded::{copy_of, MinyiSchema};

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    region::RegionQuery,
    department::DepartmentQuery,
    category::CategoryQuery,
    cases::CaseQuery,
    stats::StatsQuery,
    viewer::ViewerQuery,
    evaluation::EvaluationQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    workflow::WorkflowMutation,
    admin::AdminMutation,
    evaluation::EvaluationMutation,
);

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(live::LiveSubscription);

pub type RawSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema with the request limits on, twice ([`MinyiSchema`]): with the
/// cost guard, and bare. The database connection is schema data; the caller and the
/// DataLoaders are added per request.
pub fn build_schema(
    db: DatabaseConnection,
    limits: &Limits,
    suppression: crate::open_data::suppression::Threshold,
    live: crate::live::LiveBus,
) -> MinyiSchema {
    // One cache for both: only the bare instance runs resolvers, but nothing should
    // depend on that.
    let calendar = crate::workflow::CalendarCache::default();
    let build = || {
        Schema::build(
            QueryRoot::default(),
            MutationRoot::default(),
            SubscriptionRoot::default(),
        )
        .data(db.clone())
        .data(live.clone())
        .data(calendar.clone())
        .data(suppression)
        // Depth, aliases, directives, nodes and the text are checked before parsing and
        // validation (crate::limits); the complexity after validation, by the cost
        // guard, which reports the measured value and draws it from the caller's rate
        // limit.
        .limit_recursive_depth(limits.max_nesting)
    };
    let guarded = build()
        .extension(crate::limits::cost::CostGuard {
            max_complexity: limits.max_complexity,
        })
        .finish();
    // The twin is reached only through `MinyiSchema::execute`, after the guarded instance
    // (same types) validated the document strictly: its own pass keeps only what
    // execution needs (fragment cycles, uploads) instead of running every rule twice.
    let bare = build().validation_mode(ValidationMode::Fast).finish();
    MinyiSchema::new(guarded, bare)
}

/// The SDL of the schema (`minyi schema`, `/schema.graphql`).
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}
