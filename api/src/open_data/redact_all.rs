//! `minyi redact --all`: rewrites the stored public text of every case and rating.

/// The command-line arguments.
#[derive(clap::Args, Debug)]
pub struct RedactArgs {}

/// Runs the command.
pub async fn run(
    _db: &sea_orm::DatabaseConnection,
    _args: &RedactArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    Err("not built yet".into())
}
