//! Builds the running service: database (given or embedded), migrations, routes, listener.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use bytes::Bytes;

use poem::{Endpoint, EndpointExt, IntoResponse, Route};
use sqlx::PgPool;

use crate::{
    admin,
    api::{
        auth::{AuthSettings, Gatekeeper, METRICS_PATH},
        budget::ExpensiveWork,
        metrics::Metrics,
        state::{Draining, State},
    },
    config::{Config, Pooler},
    db::{
        self, ChangeFeed, ListenPool, MigrationState, ReadPool, TokenCache,
        sign_ins::{SIGN_IN_WINDOW, SignIns},
    },
    domain::{Password, Role, SCOPES, StudentName, TokenName, TokenSecret, Username},
    embedded_pg::{EmbeddedPgError, EmbeddedPostgres},
    jobs, load,
    middleware::{self, DatabaseGate, Front},
    openapi,
    sender::{Policy, Sender, Trust},
    server::{self, ConnectionLimits},
    telemetry, webhooks,
};

/// The database the embedded server holds the students in.
pub const EMBEDDED_DATABASE: &str = "students";

/// In-flight requests get this long to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedPgError),
    #[error("cannot prepare the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Prepare(#[from] db::PrepareError),
    #[error("cannot read or make API tokens: {0}")]
    Tokens(db::Error),
    #[error("cannot write a first-run secret to {}: {source}", .path.display())]
    SecretFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read or make accounts: {0}")]
    Accounts(db::Error),
    #[error("{0}")]
    Settings(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
}

/// What the routes share with the jobs beside them.
#[derive(Debug, Clone)]
pub struct Shared {
    pub pool: PgPool,
    /// Listing and export read here: a replica's pool, or `pool` again.
    pub read_pool: PgPool,
    pub draining: Draining,
    pub migrations: MigrationState,
    pub health: db::Health,
    pub work: ExpensiveWork,
    pub tokens: TokenCache,
    pub feed: ChangeFeed,
    pub sender: Sender,
}

/// Every route of the service behind its [`Front`]: every error is problem+json, every
/// response carries a request id and security headers.
pub fn app(
    shared: Shared,
    auth: &AuthSettings,
    allowed_hosts: &[String],
    allowed_origins: &[String],
) -> Front {
    let Shared {
        pool,
        read_pool,
        draining,
        migrations,
        health,
        work,
        tokens,
        feed,
        sender,
    } = shared;
    let gatekeeper = Gatekeeper::new(tokens.clone(), auth, pool.clone(), health.clone());
    let metrics = Metrics::with_token(pool.clone(), feed.clone())
        .catch_all_error(middleware::problem_response)
        .with(gatekeeper.clone());
    // Keep in step with `is_page`.
    let pages = Route::new()
        // Not in the document, and not behind the database gate: metrics matter most while
        // the database is away.
        .at(METRICS_PATH, metrics)
        .nest(
            "/docs",
            Route::new().at("/", page_built_on_first_visit(openapi::swagger_ui_html)),
        )
        .nest(admin::PATH, admin::Console)
        .nest(
            "/redoc",
            Route::new().at("/", page_built_on_first_visit(openapi::redoc_html)),
        )
        .at(
            "/openapi.json",
            document_endpoint(openapi::spec_json(), "application/json"),
        )
        .at(
            "/openapi.yaml",
            document_endpoint(openapi::spec_yaml(), "application/yaml"),
        );
    let api = DatabaseGate::new(
        poem::IntoEndpoint::into_endpoint(openapi::api_service()),
        migrations.clone(),
        health,
    )
    // Outside the database gate: a caller is refused or limited with the database away too,
    // and tokens are checked in memory.
    .with(gatekeeper);
    Front::new(Site { pages, api }, allowed_hosts, allowed_origins)
        .data(Arc::new(State {
            pool,
            read_pool: ReadPool(read_pool),
            tokens,
            feed,
            creates: db::Creates::default(),
            work,
            sign_ins: SignIns {
                lifetime: auth.sign_in_lifetime,
                limits: auth.sign_in_limits,
                checks: db::PasswordChecks::default(),
            },
            migrations,
            draining: draining.clone(),
            sender,
        }))
        .draining(draining)
}

/// The API and, beside it, the pages that are not in its document.
#[derive(Debug)]
struct Site<P, A> {
    pages: P,
    api: A,
}

impl<P: Endpoint, A: Endpoint<Output = poem::Response>> Endpoint for Site<P, A> {
    type Output = poem::Response;

    async fn call(&self, request: poem::Request) -> poem::Result<poem::Response> {
        if is_page(request.uri().path()) {
            self.pages
                .call(request)
                .await
                .map(IntoResponse::into_response)
        } else {
            self.api.call(request).await
        }
    }
}

/// The paths `Site::pages` answers: the documents, Swagger UI, ReDoc, the admin console and
/// `/metrics`.
/// The webhook client: `WEBHOOK_ALLOWED_HOSTS`'s rules, and `WEBHOOK_CA_FILE`'s authorities
/// trusted besides the built-in roots.
fn webhook_sender(config: &Config) -> Result<Sender, StartupError> {
    let trust = match &config.webhook_ca_file {
        Some(path) => Trust::with_pem_file(path)
            .map_err(|err| StartupError::Settings(format!("WEBHOOK_CA_FILE: {err}")))?,
        None => Trust::default(),
    };
    Sender::new(Policy::new(&config.webhook_allowed_hosts), trust)
        .map_err(|err| StartupError::Settings(format!("cannot make the webhook client: {err}")))
}

fn is_page(path: &str) -> bool {
    matches!(path, METRICS_PATH | "/openapi.json" | "/openapi.yaml")
        || middleware::is_docs_page(path)
        || admin::is_console_path(path)
}

/// The database's URLs: `DATABASE_URL` (and `DATABASE_LISTEN_URL`, for LISTEN and
/// migrations; default the same), or the embedded server's, which is started (and which the
/// caller must stop).
async fn database_url(config: &Config) -> Result<(Urls, Option<EmbeddedPostgres>), StartupError> {
    match &config.database_url {
        Some(url) => {
            let direct = config.database_listen_url.clone();
            if direct.is_none() && config.database_pooler == Pooler::Transaction {
                return Err(StartupError::Settings(
                    "DATABASE_POOLER=transaction needs DATABASE_LISTEN_URL: a direct connection \
                     to PostgreSQL for LISTEN and migrations, which a transaction pooler cannot \
                     carry"
                        .to_owned(),
                ));
            }
            Ok((
                Urls {
                    pooled: url.clone(),
                    direct: direct.unwrap_or_else(|| url.clone()),
                    pooler: config.database_pooler,
                },
                None,
            ))
        }
        None => {
            let embedded = start_embedded().await?;
            let url = embedded.url(EMBEDDED_DATABASE);
            Ok((
                Urls {
                    pooled: url.clone(),
                    direct: url,
                    pooler: Pooler::Direct,
                },
                Some(embedded),
            ))
        }
    }
}

/// Where the service's connections go.
struct Urls {
    /// Requests' queries: PostgreSQL, or a pooler in front of it.
    pooled: String,
    /// PostgreSQL itself: LISTEN and migrations.
    direct: String,
    pooler: Pooler,
}

impl Urls {
    /// The request pool, and the direct one (lazy: it connects for migrations, and its settings
    /// are copied by the followers of notifications).
    fn pools(&self, size: u32) -> Result<(PgPool, ListenPool), sqlx::Error> {
        let pool = db::pool(&self.pooled, size, self.pooler)?;
        let direct = if self.direct == self.pooled {
            pool.clone()
        } else {
            db::pool(&self.direct, 2, Pooler::Direct)?
        };
        Ok((pool, ListenPool(direct)))
    }
}

async fn start_embedded() -> Result<EmbeddedPostgres, StartupError> {
    let embedded = tokio::task::spawn_blocking(EmbeddedPostgres::start_default)
        .await
        .map_err(|err| EmbeddedPgError::Io {
            action: "start the embedded PostgreSQL".into(),
            source: std::io::Error::other(err.to_string()),
        })??;
    tracing::info!(
        data_dir = %embedded.data_dir().display(),
        "embedded PostgreSQL is running; inspect it with: {}",
        embedded.psql_command(EMBEDDED_DATABASE)
    );
    Ok(embedded)
}

/// Serves a document built once at start-up; a `Bytes` clone shares it, copying nothing.
fn document_endpoint(document: String, content_type: &'static str) -> impl Endpoint {
    let document = Bytes::from(document);
    poem::endpoint::make_sync(move |_| {
        poem::Response::builder()
            .content_type(content_type)
            .body(document.clone())
    })
}

/// The documentation pages embed their scripts (about 2.5 MB for both). Built on the first
/// visit instead of at start-up, they stay out of the memory of a server nobody browses.
fn page_built_on_first_visit(build: fn() -> String) -> impl Endpoint {
    let page = Arc::new(OnceLock::<Bytes>::new());
    poem::endpoint::make_sync(move |_| {
        let html = page.get_or_init(|| Bytes::from(build()));
        poem::Response::builder()
            .content_type("text/html; charset=utf-8")
            .body(html.clone())
    })
}

/// The database the service would use, created and migrated: for commands that work on it
/// directly (`students-api token …`). With no `DATABASE_URL` that is the embedded server, which
/// must not be running for another process at the same time.
pub struct Database {
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("embedded", &self.embedded)
            .finish_non_exhaustive()
    }
}

impl Database {
    pub async fn open(config: &Config) -> Result<Self, StartupError> {
        let (urls, embedded) = database_url(config).await?;
        let (pool, direct) = urls.pools(2)?;
        db::prepare(&urls.direct, &direct.0).await?;
        Ok(Self { pool, embedded })
    }

    /// Closes the pool and stops the embedded server, if one was started.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            tokio::task::spawn_blocking(move || embedded.stop())
                .await
                .ok();
        }
    }
}

/// The file, in the embedded server's data directory, that holds the first-run token's secret.
pub const FIRST_TOKEN_FILE: &str = "first-token";

/// The file, beside [`FIRST_TOKEN_FILE`], that holds the first-run `admin` account's password.
pub const FIRST_ADMIN_PASSWORD_FILE: &str = "first-admin-password";

/// A service bound to its port, ready to run.
pub struct Application {
    listener: tokio::net::TcpListener,
    /// `METRICS_ADDRESS`'s listener, if set.
    metrics_listener: Option<tokio::net::TcpListener>,
    tokens: TokenCache,
    feed: ChangeFeed,
    auth: AuthSettings,
    health: db::Health,
    work: ExpensiveWork,
    limits: ConnectionLimits,
    pool: PgPool,
    read_pool: PgPool,
    direct: ListenPool,
    draining: Draining,
    /// Sends webhooks, within `WEBHOOK_ALLOWED_HOSTS`.
    sender: Sender,
    /// `WEBHOOK_RETRY_DELAYS`.
    retry_delays: Vec<Duration>,
    /// How long to keep serving after SIGTERM, with readiness at 503, before closing.
    drain: Duration,
    port: u16,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
    migrations: MigrationState,
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
    /// Prepares the database (embedded or given; created and migrated) and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let (urls, embedded) = database_url(&config).await?;
        let (pool, direct) = urls.pools(config.database_pool_size)?;
        let migrations = match db::prepare(&urls.direct, &direct.0).await {
            Ok(secret) => {
                let migrations = MigrationState::default();
                migrations.mark_applied(secret);
                migrations
            }
            // Start anyway: answer 503 until the database is back, then migrate and serve.
            Err(err) if err.is_unavailable() => {
                tracing::warn!(
                    error = %err,
                    "the database is unreachable; answering 503 until it is back"
                );
                let migrations = MigrationState::default();
                tokio::spawn(jobs::migrate_when_back(
                    urls.direct.clone(),
                    direct.0.clone(),
                    migrations.clone(),
                ));
                migrations
            }
            Err(err) => return Err(err.into()),
        };
        let mut app = Self::bind(&config, pool).await?;
        app.direct = direct;
        if let Some(url) = &config.database_read_url {
            // A replica serves reads only: no migrations there (they arrive by replication).
            app.read_pool = db::pool(url, config.database_pool_size, Pooler::Direct)?;
        }
        if migrations.is_applied() {
            // After the first-run token is made, so one read sees it.
            match &embedded {
                Some(embedded) => {
                    first_run_token(&app.pool, embedded, app.port).await?;
                    first_run_admin(&app.pool, embedded, app.port).await?;
                }
                None => advise_first_token(&app.pool).await?,
            }
            app.tokens
                .reload(&app.pool)
                .await
                .map_err(StartupError::Tokens)?;
        }
        app.migrations = migrations;
        app.embedded = embedded;
        Ok(app)
    }

    /// Binds the listener for a pool that is already prepared (tests use this to point the
    /// service at a database that is down).
    pub async fn bind(config: &Config, pool: PgPool) -> Result<Self, StartupError> {
        // Installed before the first request, so nothing it would count is lost.
        telemetry::metrics();
        let address = format!("{}:{}", config.host, config.port);
        let listener = tokio::net::TcpListener::bind(address.clone())
            .await
            .map_err(|source| StartupError::Listen { address, source })?;
        let metrics_listener = match &config.metrics_address {
            Some(address) => Some(
                tokio::net::TcpListener::bind(address.as_str())
                    .await
                    .map_err(|source| StartupError::Listen {
                        address: address.clone(),
                        source,
                    })?,
            ),
            None => None,
        };
        let port = listener
            .local_addr()
            .map(|addr| addr.port())
            .unwrap_or(config.port);
        let max_connections = usize::try_from(config.max_connections).unwrap_or(usize::MAX);
        Ok(Self {
            listener,
            metrics_listener,
            tokens: TokenCache::default(),
            sender: webhook_sender(config)?,
            retry_delays: config.webhook_retry_delays.clone(),
            feed: ChangeFeed::new(config.change_retention),
            auth: AuthSettings {
                anonymous_read: config.auth_anonymous_read,
                per_token_per_minute: config.rate_limit_per_minute,
                anonymous_per_minute: config.rate_limit_anonymous_per_minute,
                sign_in_lifetime: config.sign_in_lifetime,
                sign_in_limits: db::sign_ins::SignInLimits {
                    per_username: config.sign_in_failures_per_username,
                    per_address: config.sign_in_failures_per_address,
                    window: SIGN_IN_WINDOW,
                },
            },
            health: db::Health::new(&pool),
            work: ExpensiveWork::for_pool(config.database_pool_size, config.import_max_bytes),
            limits: ConnectionLimits::new(
                max_connections,
                usize::try_from(config.database_pool_size).unwrap_or(usize::MAX),
            ),
            read_pool: pool.clone(),
            direct: ListenPool(pool.clone()),
            draining: Draining::default(),
            drain: config.shutdown_drain,
            pool,
            port,
            allowed_hosts: config.allowed_hosts.clone(),
            allowed_origins: config.cors_allowed_origins.clone(),
            // Not prepared by this call: 503 until `build` (or the migrate job) says otherwise.
            migrations: MigrationState::default(),
            embedded: None,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `METRICS_ADDRESS` bound, if it is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
            .map(|address| address.port())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves as if the database had been prepared (tests aim the service at a database that
    /// is down, to see requests meet it), with a throwaway cursor secret.
    #[cfg(feature = "test-support")]
    pub fn assume_prepared(&mut self) {
        let key = uuid::Uuid::new_v4().as_bytes().to_vec();
        self.migrations.mark_applied(db::CursorSecret::new(key));
    }

    /// Reads every token again (the running service does this on every change and every 30 s;
    /// tests that make a token in the database call it to use the token at once).
    pub async fn reload_tokens(&self) -> Result<usize, db::Error> {
        self.tokens.reload(&self.pool).await
    }

    /// How long an export waits for a client to take a chunk (tests use a short one).
    pub fn set_export_stall_limit(&mut self, stall: Duration) {
        self.work.export_stall = stall;
    }

    /// Keeps only `batches` batches of changes for slow subscribers (tests use a few).
    pub fn set_feed_backlog(&mut self, batches: usize) {
        self.feed = ChangeFeed::with_backlog(self.feed.retention(), batches);
    }

    /// Replaces the connection limits (tests use short ones).
    pub fn set_connection_limits(&mut self, limits: ConnectionLimits) {
        self.limits = limits;
    }

    /// Serves until SIGINT/SIGTERM, lets in-flight requests finish, then stops the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // Handlers go in before we announce the port, so an early SIGTERM is still graceful.
        let stop = shutdown_signal()?;
        let expiry = tokio::spawn(jobs::expire_old_records(self.pool.clone()));
        let pruning = tokio::spawn(jobs::prune_changes(
            self.pool.clone(),
            self.feed.retention(),
        ));
        let load = load::Load::default();
        let busy = load::Busy::new(load.clone(), self.pool.options().get_max_connections());
        let feed = tokio::spawn(self.feed.clone().run(self.direct.clone(), busy.clone()));
        let health = tokio::spawn(self.health.clone().watch());
        let tokens = tokio::spawn(self.tokens.clone().follow(self.direct.clone()));
        let tidy = tokio::spawn(telemetry::keep_metrics_tidy());
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let deliveries = webhooks::spawn(
            &self.direct.0,
            busy,
            self.feed.clone(),
            &self.sender,
            self.retry_delays.clone(),
            stopped.clone(),
        )?;
        let scraping = self.metrics_listener.map(|listener| {
            let mut stopped = stopped.clone();
            tokio::spawn(server::serve(
                listener,
                Route::new().at(
                    METRICS_PATH,
                    Metrics::open(self.pool.clone(), self.feed.clone()),
                ),
                ConnectionLimits::new(64, 0),
                load::Load::default(),
                async move {
                    let _ = stopped.wait_for(|stopped| *stopped).await;
                },
                Duration::from_secs(1),
            ))
        });
        tracing::info!(
            "listening on port {0}; Swagger UI at http://localhost:{0}/docs, the admin console at \
             http://localhost:{0}/admin",
            self.port
        );
        let shared = Shared {
            pool: self.pool.clone(),
            read_pool: self.read_pool.clone(),
            draining: self.draining.clone(),
            migrations: self.migrations.clone(),
            health: self.health.clone(),
            work: self.work.clone(),
            tokens: self.tokens.clone(),
            feed: self.feed.clone(),
            sender: self.sender.clone(),
        };
        // Open change streams end at once on SIGTERM, not after the grace period.
        let closing = self.feed.clone();
        let (draining, drain) = (self.draining.clone(), self.drain);
        let stop = async move {
            stop.await;
            draining.start();
            closing.close();
            if !drain.is_zero() {
                tracing::info!(
                    seconds = drain.as_secs_f64(),
                    "stopping: readiness answers 503 while balancers drain this instance"
                );
                tokio::time::sleep(drain).await;
            }
            let _ = stopping.send(true);
        };
        let app = app(
            shared,
            &self.auth,
            &self.allowed_hosts,
            &self.allowed_origins,
        );
        let result =
            server::serve(self.listener, app, self.limits, load, stop, SHUTDOWN_GRACE).await;
        expiry.abort();
        pruning.abort();
        health.abort();
        tokens.abort();
        tidy.abort();
        if let Some(scraping) = scraping {
            let _ = scraping.await;
        }
        // Finishes its rounds and gives its leases back (`stopping` was sent by `stop`).
        let _ = tokio::task::spawn_blocking(move || deliveries.join()).await;
        self.feed.close();
        let _ = feed.await;
        self.pool.close().await;
        self.read_pool.close().await;
        self.direct.0.close().await;
        if let Some(embedded) = self.embedded {
            tokio::task::spawn_blocking(move || embedded.stop())
                .await
                .ok();
        }
        result
    }
}

/// With the embedded database and no token yet, makes one with every scope, so a newcomer can
/// use Swagger UI at once: its secret goes to a file only its owner can read (the log says
/// where, never the secret itself).
async fn first_run_token(
    pool: &PgPool,
    embedded: &EmbeddedPostgres,
    port: u16,
) -> Result<(), StartupError> {
    let path = embedded.data_dir().join(FIRST_TOKEN_FILE);
    if !db::any_token(pool).await.map_err(StartupError::Tokens)? {
        let name = TokenName::parse("first-run token").map_err(|v| {
            StartupError::Tokens(db::Error::Corrupt(format!("token name: {}", v.message)))
        })?;
        let secret = TokenSecret::generate().map_err(|err| {
            StartupError::Tokens(db::Error::Corrupt(format!("no randomness: {err}")))
        })?;
        // The file first: a token whose secret was never written anywhere would lock the
        // newcomer out (and, existing, stop the next start from making another).
        write_private(&path, &format!("{}\n", secret.expose())).map_err(|source| {
            StartupError::SecretFile {
                path: path.clone(),
                source,
            }
        })?;
        if let Err(err) = db::insert_token(pool, &name, &SCOPES, None, &secret).await {
            let _ = std::fs::remove_file(&path);
            return Err(StartupError::Tokens(err));
        }
    }
    if path.exists() {
        tracing::info!(
            "first-run API token (every scope) is in {0}: open http://localhost:{1}/docs, click \
             Authorize and paste it; curl: -H \"Authorization: Bearer $(cat {0})\". Make your \
             own with `students-api token create` and revoke this one.",
            path.display(),
            port,
        );
    }
    Ok(())
}

/// With the embedded database and no account yet, makes `admin` (role admin) with a generated
/// password, so a person can sign in at once: the password goes to a file only its owner can
/// read, beside the first-run token, and the log says where, never the password.
async fn first_run_admin(
    pool: &PgPool,
    embedded: &EmbeddedPostgres,
    port: u16,
) -> Result<(), StartupError> {
    let path = embedded.data_dir().join(FIRST_ADMIN_PASSWORD_FILE);
    let corrupt = |what: String| StartupError::Accounts(db::Error::Corrupt(what));
    if !db::any_account(pool)
        .await
        .map_err(StartupError::Accounts)?
    {
        let password =
            Password::generate().map_err(|err| corrupt(format!("no randomness: {err}")))?;
        let hash = tokio::task::spawn_blocking(move || password.hash().map(|h| (password, h)))
            .await
            .map_err(|err| corrupt(format!("hashing stopped: {err}")))?;
        let (password, hash) = hash.map_err(|err| corrupt(format!("cannot hash: {err}")))?;
        let username = Username::parse("admin").map_err(|v| corrupt(v.message))?;
        let display_name = StudentName::parse("Administrator").map_err(|v| corrupt(v.message))?;
        // The file first, as for the token: an account whose password was never written
        // anywhere would lock the newcomer out.
        write_private(&path, &format!("{}\n", password.expose())).map_err(|source| {
            StartupError::SecretFile {
                path: path.clone(),
                source,
            }
        })?;
        if let Err(err) =
            db::create_account(pool, &username, &display_name, Role::Admin, &hash, None).await
        {
            let _ = std::fs::remove_file(&path);
            return Err(StartupError::Accounts(err));
        }
    }
    if path.exists() && !still_the_admins_password(pool, &path).await? {
        // Chosen anew since: the file would only mislead, and keep an old secret on disk.
        std::fs::remove_file(&path).map_err(|source| StartupError::SecretFile {
            path: path.clone(),
            source,
        })?;
        tracing::info!(
            "removed {}: the first-run account `admin` has a password of its own now",
            path.display()
        );
    }
    if path.exists() {
        tracing::info!(
            "first-run account `admin` (role admin): its password is in {0}; sign in at \
             http://localhost:{1}/admin (or in /docs: Authorize, username and password), then choose your \
             own: changeMyPassword (PUT /api/me/password), or `students-api account passwd \
             admin`.",
            path.display(),
            port,
        );
    }
    Ok(())
}

/// Whether the first-run password file still holds `admin`'s password (one argon2 check).
async fn still_the_admins_password(
    pool: &PgPool,
    path: &std::path::Path,
) -> Result<bool, StartupError> {
    let written = std::fs::read_to_string(path).map_err(|source| StartupError::SecretFile {
        path: path.to_owned(),
        source,
    })?;
    let username = Username::parse("admin").map_err(|v| {
        StartupError::Accounts(db::Error::Corrupt(format!("username admin: {}", v.message)))
    })?;
    let Some(stored) = db::stored_password_hash(pool, &username)
        .await
        .map_err(StartupError::Accounts)?
    else {
        return Ok(false);
    };
    tokio::task::spawn_blocking(move || stored.verify(written.trim_end()))
        .await
        .map_err(|err| StartupError::Accounts(db::Error::Corrupt(format!("check stopped: {err}"))))
}

/// With a database of one's own, the service never invents a token: it says how to make one.
async fn advise_first_token(pool: &PgPool) -> Result<(), StartupError> {
    if !db::any_token(pool).await.map_err(StartupError::Tokens)? {
        tracing::warn!(
            "no API token exists yet, so every /api/ request is refused; make one with: \
             students-api token create --name admin --scope students:read --scope \
             students:write --scope tokens:admin"
        );
    }
    Ok(())
}

/// Writes `contents` to a new file at `path` that only its owner may read (mode 0600). A file
/// already there (a secret from a database since wiped) is replaced, not reused: its mode
/// might be looser.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Resolves on the first SIGINT or SIGTERM. Registered eagerly: a signal that arrives before
/// the future is first polled is not lost (and does not kill the process).
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}
