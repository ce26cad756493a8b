//! Settings from flags, the environment and `.env` (read by `main` before parsing).

use clap::{Parser, Subcommand};

/// A typed-contract REST API for students.
#[derive(Debug, Parser)]
#[command(name = "students-api", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the OpenAPI document as YAML and exit.
    Openapi,
}

/// Where to listen and which database to use.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// PostgreSQL URL. Unset: start the embedded PostgreSQL server instead.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}
