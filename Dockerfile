# Build stage: compile the release binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY tests ./tests
RUN cargo build --release --locked --bin students-api

# Runtime stage: just the binary (migrations are embedded in it).
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/students-api /usr/local/bin/students-api
USER nobody
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
CMD ["students-api"]
