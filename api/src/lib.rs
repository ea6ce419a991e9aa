//! minyi: the data backend of China's online mass-work platforms.
//! See docs/ARCHITECTURE.md for the crates and the path of a request.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod evaluation;
pub mod graphiql;
pub mod graphql;
pub mod graphql_http;
pub mod keys;
pub mod limits;
pub mod open_data;
pub mod rate_limit;
pub mod replicas;
pub mod routes;
pub mod seed;
pub mod telemetry;
pub mod web;
pub mod workflow;

pub use app::Application;
pub use config::Config;
