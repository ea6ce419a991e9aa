//! Bulk exports of published cases: `GET /exports/cases.csv|ndjson` and `minyi export cases`,
//! streamed in constant memory.

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route
}

/// The command-line arguments.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {}

/// Runs the command.
pub async fn run(
    _db: &sea_orm::DatabaseConnection,
    _args: &ExportArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    Err("not built yet".into())
}
