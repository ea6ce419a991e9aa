//! The command line: flags with environment fallbacks, parsed once.

use crate::config::Config;
use crate::keys::{create_key, KeyGrant};
use clap::{Parser, Subcommand, ValueEnum};
use entities::Role;
use migration::{Migrator, MigratorTrait};

#[derive(Parser, Debug)]
#[command(
    name = "minyi",
    version,
    about = "民意 — the data backend of online mass-work platforms"
)]
pub struct Cli {
    /// Database URL: sqlite://FILE?mode=rwc or postgres://…
    #[arg(long, global = true, env = "MINYI_DATABASE_URL", default_value = Config::DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Tracing filter, e.g. `info,minyi=debug`.
    #[arg(long, global = true, env = "MINYI_LOG")]
    pub log: Option<String>,
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "MINYI_LOG_FORMAT",
        default_value = "pretty"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// How `serve` behaves when the database is slow, busy or gone, and when it is stopped.
#[derive(clap::Args, Debug)]
pub struct FaultFlags {
    /// Most database connections in the pool [default: SQLite 8, PostgreSQL 20].
    #[arg(long, env = "MINYI_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub db_max_connections: Option<u32>,
    /// Seconds a request waits for a database connection (pool busy, database unreachable)
    /// before it fails with INTERNAL.
    #[arg(long, env = "MINYI_DB_ACQUIRE_TIMEOUT", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub db_acquire_timeout: u64,
    /// Seconds SIGTERM/Ctrl-C waits for in-flight requests before exiting anyway.
    #[arg(long, env = "MINYI_SHUTDOWN_GRACE", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace: u64,
}

impl FaultFlags {
    fn apply(&self, config: &mut Config) {
        config.pool.max_connections = self.db_max_connections;
        config.pool.acquire_timeout = std::time::Duration::from_secs(self.db_acquire_timeout);
        config.shutdown_grace = std::time::Duration::from_secs(self.shutdown_grace);
    }
}

#[derive(ValueEnum, Clone, Debug, PartialEq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Migrate if needed and serve HTTP.
    Serve {
        #[arg(long, env = "MINYI_BIND", default_value = Config::DEFAULT_BIND)]
        bind: String,
        #[command(flatten)]
        faults: FaultFlags,
        #[command(flatten)]
        limits: crate::limits::flags::LimitFlags,
        #[command(flatten)]
        jobs: crate::jobs::flags::JobFlags,
        /// Public statistics of township/village units hide counts below this
        /// (small-cell suppression).
        #[arg(long, env = "MINYI_SUPPRESSION_THRESHOLD", default_value_t = crate::open_data::suppression::DEFAULT_THRESHOLD, value_parser = clap::value_parser!(i64).range(1..=1000))]
        suppression_threshold: i64,
        /// Where citable releases are kept (served at /releases/…).
        #[arg(long, env = "MINYI_DATA_DIR", default_value = Config::DEFAULT_DATA_DIR)]
        data_dir: std::path::PathBuf,
        #[command(flatten)]
        replicas: crate::replicas::flags::ReplicaFlags,
    },
    /// Schema migrations only.
    Migrate {
        #[arg(value_enum, default_value = "up")]
        action: MigrateAction,
    },
    /// Print the GraphQL SDL.
    Schema,
    /// Generate deterministic demo data.
    Seed(crate::seed::SeedArgs),
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Import service requests (Open311 GeoReport v2 field names, CSV or JSON).
    Import(crate::open_data::import::ImportArgs),
    /// Export published, redacted data.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Citable, frozen releases of the open data.
    Release(crate::open_data::release::ReleaseArgs),
    /// Rewrite the stored redacted text (after the redaction rules changed).
    Redact(crate::open_data::redact_all::RedactArgs),
}

#[derive(Subcommand, Debug)]
pub enum ExportWhat {
    /// The published cases, redacted (the same content as `GET /exports/cases.*`).
    Cases(crate::open_data::export::ExportArgs),
}

#[derive(ValueEnum, Clone, Debug)]
pub enum MigrateAction {
    Up,
    Down,
    Status,
}

#[derive(Subcommand, Debug)]
pub enum KeyAction {
    /// Create a key and print its secret once (only its hash is stored).
    Create {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        department: Option<i32>,
        #[arg(long)]
        panel: Option<i32>,
        #[arg(long)]
        label: Option<String>,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::from_db(&value.to_ascii_lowercase())
        .filter(|role| *role != Role::Public)
        .ok_or_else(|| format!("unknown role {value:?}: use leader, handler, evaluator or admin"))
}

/// Parses the process arguments and runs the command.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let format = if cli.log_format == LogFormat::Json {
        "json"
    } else {
        "pretty"
    };
    crate::telemetry::init_logging(cli.log.as_deref(), format)?;
    match cli.command {
        Command::Serve {
            bind,
            faults,
            limits,
            jobs,
            suppression_threshold,
            data_dir,
            replicas,
        } => {
            let mut config = Config::new(cli.database_url, bind);
            faults.apply(&mut config);
            limits.apply(&mut config)?;
            config.jobs = jobs.settings(std::env::vars())?;
            config.suppression_threshold = suppression_threshold;
            config.data_dir = data_dir;
            config.replicas = replicas.settings();
            let app = crate::Application::build(config).await?;
            tracing::info!(address = %app.address(), "minyi is serving: GraphiQL at /graphiql");
            eprintln!("minyi listening on http://{}/graphiql", app.address());
            app.run_until_stopped().await?;
        }
        Command::Migrate { action } => {
            let db = crate::db::connect(&cli.database_url, None).await?;
            match action {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down => Migrator::down(&db, Some(1)).await?,
                MigrateAction::Status => {
                    for m in Migrator::get_migration_with_status(&db).await? {
                        println!("{}\t{:?}", m.name(), m.status());
                    }
                }
            }
        }
        Command::Schema => print!("{}", crate::graphql::sdl()),
        Command::Seed(args) => {
            let db = crate::db::connect(&cli.database_url, None).await?;
            crate::db::migrate(&db).await?;
            crate::seed::run(&db, &args).await?;
        }
        Command::Import(args) => {
            // Bad arguments, mapping or file are refused before any database is touched.
            crate::open_data::import::check(&args)?;
            let db = migrated(&cli.database_url).await?;
            crate::open_data::import::run(&db, &args).await?;
        }
        Command::Export {
            what: ExportWhat::Cases(args),
        } => {
            let db = migrated(&cli.database_url).await?;
            crate::open_data::export::run(&db, &args).await?;
        }
        Command::Release(args) => {
            let db = migrated(&cli.database_url).await?;
            crate::open_data::release::run(&db, &args).await?;
        }
        Command::Redact(args) => {
            let db = migrated(&cli.database_url).await?;
            crate::open_data::redact_all::run(&db, &args).await?;
        }
        Command::Key {
            action:
                KeyAction::Create {
                    role,
                    region,
                    department,
                    panel,
                    label,
                },
        } => {
            let db = crate::db::connect(&cli.database_url, None).await?;
            crate::db::migrate(&db).await?;
            let key = create_key(
                &db,
                KeyGrant {
                    role,
                    region_code: region,
                    department_id: department,
                    panel_id: panel,
                    label,
                },
            )
            .await
            .map_err(|e| e.message())?;
            eprintln!(
                "created {} key #{}; store the secret now, it is not shown again:",
                key.role.as_str(),
                key.id
            );
            println!("{}", key.secret);
        }
    }
    Ok(())
}

/// A connection to a database migrated to the current schema.
async fn migrated(url: &str) -> Result<sea_orm::DatabaseConnection, Box<dyn std::error::Error>> {
    let ready = async {
        let db = crate::db::connect(url, None).await?;
        crate::db::migrate(&db).await?;
        Ok::<_, sea_orm::DbErr>(db)
    };
    ready.await.map_err(|e| {
        // A read-only URL can read a migrated database but neither set up nor migrate
        // one, and SQLite's "attempt to write a readonly database" does not say why a
        // write was tried.
        if url.contains("mode=ro") {
            format!(
                "{e}; the URL opens the database read-only, so it must already be a minyi \
                 database at the current schema: migrate it once through a writable URL \
                 (`minyi --database-url … migrate up`)"
            )
            .into()
        } else {
            e.into()
        }
    })
}
