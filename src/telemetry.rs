//! Logging through `tracing`, filtered by `RUST_LOG` (default: info for this crate and poem).
//! Colours only on a terminal: a log file or a log shipper gets plain text.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("students_api=info,poem=info,sqlx=warn"));
    // A second call (tests spawning several apps) keeps the first subscriber.
    let _ = fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}
