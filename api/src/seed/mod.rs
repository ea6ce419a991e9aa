//! `minyi seed --demo`: deterministic, realistic demo data.

#[derive(clap::Args, Debug, Clone)]
pub struct SeedArgs {
    /// Generate the demo data set.
    #[arg(long)]
    pub demo: bool,
    /// How many cases.
    #[arg(long, default_value_t = 10_000)]
    pub cases: u64,
    /// Random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 2016)]
    pub seed: u64,
}

pub async fn run(
    _db: &sea_orm::DatabaseConnection,
    _args: &SeedArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    Err("seed is being written".into())
}
