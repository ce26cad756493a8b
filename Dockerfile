# Build stage: compile the release binary. Cargo loads the whole workspace before it builds one
# binary, so every member's directory must be here (Cargo.toml lists them); tests/api is named in
# Cargo.toml too. scripts/check-docker-build replays exactly these COPYs in an empty directory.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY clients/rust ./clients/rust
COPY src ./src
COPY migrations ./migrations
# The admin console's built files (committed; embedded in the binary: no Node here).
COPY admin/dist ./admin/dist
COPY tests ./tests
RUN cargo build --release --locked --bin students-api

# Runtime stage: just the binary (migrations are embedded in it), run as an unprivileged user.
# The uid is numeric so Kubernetes' runAsNonRoot can check it without /etc/passwd.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/students-api /usr/local/bin/students-api
USER 10001:10001
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# The slim image has no curl: the binary asks its own /readyz (exit 0 only on a 200).
HEALTHCHECK --interval=5s --timeout=4s --start-period=10s --retries=3 \
    CMD ["students-api", "healthcheck"]
CMD ["students-api"]
