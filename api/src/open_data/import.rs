//! `minyi import FILE --format georeport-v2`: service requests in GeoReport v2 field names.

/// The command-line arguments.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {}

/// Runs the command.
pub async fn run(
    _db: &sea_orm::DatabaseConnection,
    _args: &ImportArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    Err("not built yet".into())
}
