//! `students-api`: serve the API, or print its OpenAPI document (`students-api openapi`).

use std::process::ExitCode;

use clap::Parser;
use students_api::{
    config::{Cli, Command},
    openapi,
    startup::Application,
    telemetry,
};

/// mimalloc instead of glibc's malloc: a request makes many small, short-lived allocations
/// (headers, JSON, rows), and glibc spent about 14% of the server's CPU on them (docs/performance.md,
/// and bench/results/HISTORY.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; the environment and flags still apply.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Openapi) => {
            print!("{}", openapi::spec_yaml());
            return ExitCode::SUCCESS;
        }
        Some(Command::Import(args)) => {
            return match students_api::remote::import(&args).await {
                Ok(code) => code,
                Err(err) => {
                    eprintln!("students-api import: {err}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Healthcheck { url }) => {
            let url = url.unwrap_or_else(|| format!("http://127.0.0.1:{}/readyz", cli.config.port));
            return students_api::remote::healthcheck(&url).await;
        }
        Some(Command::Token { action }) => {
            return finished("token", students_api::cli::token(&cli.config, action).await);
        }
        Some(Command::Webhook { action }) => {
            return finished(
                "webhook",
                students_api::cli::webhook(&cli.config, action).await,
            );
        }
        Some(Command::Account { action }) => {
            return finished(
                "account",
                students_api::cli::account(&cli.config, action).await,
            );
        }
        None => {}
    }
    telemetry::init(cli.config.log_format == students_api::config::LogFormat::Json);
    let app = match Application::build(cli.config).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("students-api could not start:\n{err}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("students-api stopped with an error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// A CLI command's output on stdout, or its error on stderr, and the exit code.
fn finished(command: &str, result: Result<String, students_api::cli::CliError>) -> ExitCode {
    match result {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("students-api {command}: {err}");
            ExitCode::FAILURE
        }
    }
}
