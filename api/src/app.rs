//! `Application::build(config)`: a migrated database and a bound listener, ready to run.
//! Tests bind port 0 and read the port back.

use crate::config::Config;
use crate::routes::{router, AppState};
use crate::telemetry::Counters;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::Server;
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::sync::Arc;

/// How much longer PostgreSQL lets a statement run than the request's query timeout.
pub const STATEMENT_TIMEOUT_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Replicas(#[from] crate::replicas::ReplicaError),
    #[error("server: {0}")]
    Server(#[from] std::io::Error),
}

pub struct Application {
    addr: SocketAddr,
    acceptor: poem::listener::TcpAcceptor,
    state: AppState,
}

impl Application {
    /// Connects, migrates (loading reference data the first time) and binds.
    pub async fn build(config: Config) -> Result<Self, AppError> {
        crate::replicas::check_primary(&config.database_url, &config.replicas)?;
        let counters = Counters::new();
        // A request's statements may not outlive the request by much: PostgreSQL cancels
        // them one second after graphql_http's timeout answered the client (a second, so
        // the request's own timeout refusal wins the race, not an INTERNAL error).
        let pool = crate::config::PoolSettings {
            statement_timeout: Some(config.limits.query_timeout + STATEMENT_TIMEOUT_GRACE),
            ..config.pool.clone()
        };
        let db =
            crate::db::connect_with(&config.database_url, &pool, Some(counters.clone())).await?;
        crate::db::migrate(&db).await?;
        let reads = crate::replicas::ReadRouter::connect(
            db.clone(),
            &config.replicas,
            &pool,
            Some(counters.clone()),
        )
        .await?;
        crate::workflow::supervision::spawn(db.clone());
        let schema = crate::graphql::build_schema(
            db.clone(),
            &config.limits,
            crate::open_data::suppression::Threshold(config.suppression_threshold),
        );
        let acceptor = TcpListener::bind(config.bind.clone())
            .into_acceptor()
            .await
            .map_err(|source| AppError::Bind {
                addr: config.bind.clone(),
                source,
            })?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| AppError::Bind {
                addr: config.bind.clone(),
                source: std::io::Error::other("no local address"),
            })?;
        Ok(Self {
            addr,
            acceptor,
            state: AppState {
                db,
                reads,
                schema,
                counters,
                guards: Arc::new(crate::graphql_http::Guards::new(&config.limits)),
                config: Arc::new(config),
            },
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// Serves until SIGTERM or Ctrl-C, then stops accepting connections and lets the
    /// in-flight requests finish for up to `config.shutdown_grace` (requests still running
    /// then are cut). The pool is closed last, so SQLite checkpoints its WAL on the way out.
    pub async fn run_until_stopped(self) -> Result<(), AppError> {
        let grace = self.state.config.shutdown_grace;
        let db = self.state.db.clone();
        let app = router(self.state);
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app, shutdown_signal(), Some(grace))
            .await?;
        tracing::info!("stopped serving; closing the database pool");
        db.close().await?;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
