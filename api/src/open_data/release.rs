//! Citable releases: `minyi release create` freezes a dated export (files, SHA-256, row counts)
//! that later downloads reproduce byte for byte.

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route
}

/// The command-line arguments.
#[derive(clap::Args, Debug)]
pub struct ReleaseArgs {}

/// Runs the command.
pub async fn run(
    _db: &sea_orm::DatabaseConnection,
    _args: &ReleaseArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    Err("not built yet".into())
}
