//! Builds the running service: database (given or embedded), migrations, routes, listener.

use std::time::Duration;

use poem::{
    Endpoint, EndpointExt, Route, Server,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
};
use sqlx::PgPool;

use crate::{config::Config, db, embedded_pg::EmbeddedPostgres, error, openapi};

/// The database the embedded server holds the students in.
pub const EMBEDDED_DATABASE: &str = "students";

/// In-flight requests get this long to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Embedded(#[from] crate::embedded_pg::EmbeddedPgError),
    #[error("cannot prepare the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
}

/// Every route of the service, with every error rendered as problem+json.
pub fn app(pool: PgPool) -> impl Endpoint {
    let api = openapi::api_service();
    Route::new()
        .nest("/docs", api.swagger_ui())
        .nest("/redoc", api.redoc())
        .at(
            "/openapi.json",
            spec_endpoint(openapi::spec_json(), "application/json"),
        )
        .at(
            "/openapi.yaml",
            spec_endpoint(openapi::spec_yaml(), "application/yaml"),
        )
        .nest("/", api)
        .data(pool)
        .catch_all_error(|err| async move { error::from_poem(err).into_problem_response() })
        .map_to_response()
        .with(poem::middleware::Tracing)
}

/// Serves a document built once at start-up.
fn spec_endpoint(document: String, content_type: &'static str) -> impl Endpoint {
    poem::endpoint::make_sync(move |_| {
        poem::Response::builder()
            .content_type(content_type)
            .body(document.clone())
    })
}

/// A service bound to its port, ready to run.
pub struct Application {
    acceptor: TcpAcceptor,
    pool: PgPool,
    port: u16,
    embedded: Option<EmbeddedPostgres>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("embedded", &self.embedded)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Prepares the database (creating and migrating it) and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let (url, embedded) = match config.database_url {
            Some(url) => (url, None),
            None => {
                let embedded = tokio::task::spawn_blocking(EmbeddedPostgres::start_default)
                    .await
                    .map_err(|err| std::io::Error::other(err.to_string()))
                    .map_err(|source| StartupError::Listen {
                        address: "embedded PostgreSQL".into(),
                        source,
                    })??;
                tracing::info!(
                    data_dir = %embedded.data_dir().display(),
                    "embedded PostgreSQL is running; inspect it with: {}",
                    embedded.psql_command(EMBEDDED_DATABASE)
                );
                (embedded.url(EMBEDDED_DATABASE), Some(embedded))
            }
        };
        db::ensure_database(&url).await?;
        let pool = db::pool(&url)?;
        db::MIGRATOR.run(&pool).await?;

        let address = format!("{}:{}", config.host, config.port);
        let acceptor = TcpListener::bind(address.clone())
            .into_acceptor()
            .await
            .map_err(|source| StartupError::Listen { address, source })?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(|a| a.port()))
            .unwrap_or(config.port);
        Ok(Self {
            acceptor,
            pool,
            port,
            embedded,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves until SIGINT/SIGTERM, lets in-flight requests finish, then stops the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                app(self.pool.clone()),
                shutdown_signal(),
                Some(SHUTDOWN_GRACE),
            )
            .await;
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            tokio::task::spawn_blocking(move || embedded.stop())
                .await
                .ok();
        }
        result
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
