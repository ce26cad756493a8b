//! `docker-compose.yml` cannot run here (no Docker engine), so at least check that it says what
//! docs/operations.md promises: PostgreSQL with a health check, and the API built from the Dockerfile;
//! and, under the `cluster` profile, the topology deploy/README.md describes.

use serde_yaml::Value;

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn docker_compose_runs_postgres_with_a_healthcheck_and_the_api_after_it() {
    let compose: Value = serde_yaml::from_str(&read("docker-compose.yml")).unwrap();
    let db = &compose["services"]["db"];
    let api = &compose["services"]["api"];

    assert!(db["image"].as_str().unwrap().starts_with("postgres:"));
    assert!(db["healthcheck"]["test"].as_sequence().is_some());
    assert_eq!(
        api["build"].as_str().or(api["build"]["context"].as_str()),
        Some(".")
    );
    assert_eq!(api["depends_on"]["db"]["condition"], "service_healthy");
    let url = api["environment"]["DATABASE_URL"].as_str().unwrap();
    assert!(
        url.starts_with("postgres://") && url.contains("@db:5432/"),
        "{url}"
    );
    assert_eq!(api["environment"]["HOST"], "0.0.0.0");
    let hosts = api["environment"]["ALLOWED_HOSTS"]
        .as_str()
        .unwrap_or_default();
    assert!(
        hosts.split(',').any(|h| h == "localhost") && hosts.split(',').any(|h| h == "api"),
        "the published port and the compose network are allowed hosts: {hosts}"
    );
    assert!(
        api["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|p| p.as_str() == Some("3000:3000"))
    );
}

#[test]
fn the_dockerfile_is_multi_stage_and_runs_the_binary() {
    let dockerfile = read("Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.trim_start().starts_with("FROM "))
        .count();

    assert!(stages >= 2, "a build stage and a runtime stage");
    assert!(dockerfile.contains("students-api"));
    // The runtime stage: what `docker run` starts. (The build stage itself is replayed by
    // scripts/check-docker-build, which scripts/test runs.)
    let runtime = dockerfile.rsplit("\nFROM ").next().unwrap();
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage names its user");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("a numeric uid");
    assert!(uid >= 1000, "not root, nor a system account: {user}");
    let healthcheck = runtime
        .split("HEALTHCHECK")
        .nth(1)
        .expect("the image has a health check");
    assert!(
        healthcheck.contains(r#"CMD ["students-api", "healthcheck"]"#),
        "{healthcheck}"
    );
}

/// `students-api healthcheck`, the image's HEALTHCHECK: exit 0 for a ready server, 1 for one that
/// cannot reach its database (503) and for a port where nothing listens.
#[tokio::test]
async fn the_healthcheck_command_passes_only_a_ready_server() {
    async fn healthcheck(port: u16) -> (bool, String) {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_students-api"))
            .arg("healthcheck")
            .env("PORT", port.to_string())
            .output()
            .await
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
    let port = |app: &crate::helpers::TestApp| app.address.rsplit(':').next().unwrap().parse();

    let ready = crate::helpers::spawn_app().await;
    assert_eq!(
        healthcheck(port(&ready).unwrap()).await,
        (true, String::new())
    );

    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(1))
        .connect_lazy("postgres://postgres@127.0.0.1:1/students")
        .unwrap();
    let mut app =
        students_api::startup::Application::bind(&crate::helpers::test_config(None), pool)
            .await
            .unwrap();
    app.assume_prepared();
    let unready = crate::helpers::serve(app).await;
    let (passed, said) = healthcheck(port(&unready).unwrap()).await;
    assert!(!passed && said.contains("503"), "{said}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let (passed, said) = healthcheck(closed_port).await;
    assert!(!passed && said.contains("did not answer"), "{said}");

    // A server that takes the connection and never answers: given up on after 3 s.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let holding = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let started = std::time::Instant::now();
    let (passed, said) = healthcheck(silent_port).await;
    let took = started.elapsed();
    assert!(!passed && said.contains("did not answer"), "{said}");
    assert!(
        took >= std::time::Duration::from_secs(3) && took < std::time::Duration::from_secs(6),
        "{took:?}"
    );
    holding.abort();
}

/// `docker-compose.yml` with its `<<: *api` merges applied, as Compose reads it.
fn compose() -> Value {
    let mut compose: Value = serde_yaml::from_str(&read("docker-compose.yml")).unwrap();
    compose.apply_merge().unwrap();
    compose
}

fn services(compose: &Value) -> Vec<(&str, &Value)> {
    compose["services"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(name, service)| (name.as_str().unwrap(), service))
        .collect()
}

/// The services built from this repository's Dockerfile: `api` and the cluster's `api-N`.
fn api_services(compose: &Value) -> Vec<(&str, &Value)> {
    services(compose)
        .into_iter()
        .filter(|(_, service)| {
            service["build"]
                .as_str()
                .or(service["build"]["context"].as_str())
                == Some(".")
        })
        .collect()
}

fn environment<'a>(service: &'a Value, name: &str) -> &'a str {
    service["environment"][name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not set"))
}

/// The host of `postgres://user:password@host:port/database`.
fn host(url: &str) -> &str {
    let authority = url.split_once('@').map_or("", |(_, authority)| authority);
    authority.split([':', '/']).next().unwrap_or_default()
}

#[test]
fn without_a_profile_compose_starts_only_postgres_and_the_api() {
    let compose = compose();
    let default: Vec<&str> = services(&compose)
        .into_iter()
        .filter(|(_, service)| service.get("profiles").is_none())
        .map(|(name, _)| name)
        .collect();
    assert_eq!(default, ["db", "api"]);

    for (name, service) in services(&compose) {
        if !default.contains(&name) {
            assert_eq!(
                service["profiles"],
                serde_yaml::from_str::<Value>("[cluster]").unwrap(),
                "{name} belongs to the cluster profile and no other"
            );
        }
    }
}

#[test]
fn the_cluster_profile_runs_three_instances_through_pgbouncer_behind_the_balancer() {
    let compose = compose();
    let instances: Vec<(&str, &Value)> = api_services(&compose)
        .into_iter()
        .filter(|(name, _)| *name != "api")
        .collect();
    let names: Vec<&str> = instances.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["api-1", "api-2", "api-3"]);

    let first = instances[0].1;
    for (name, instance) in &instances {
        // One definition (`<<: *api`): the same image, build and settings for all three.
        assert_eq!(instance["build"], first["build"], "{name}");
        assert_eq!(instance["image"], first["image"], "{name}");
        assert_eq!(instance["environment"], first["environment"], "{name}");
        assert_eq!(environment(instance, "DATABASE_POOLER"), "transaction");
        assert_eq!(host(environment(instance, "DATABASE_URL")), "pgbouncer");
        // LISTEN and migrations cannot go through a transaction pooler.
        assert_eq!(host(environment(instance, "DATABASE_LISTEN_URL")), "db");
        assert_eq!(
            host(environment(instance, "DATABASE_READ_URL")),
            "db-replica"
        );
        assert_eq!(environment(instance, "HOST"), "0.0.0.0");
        let hosts: Vec<&str> = environment(instance, "ALLOWED_HOSTS").split(',').collect();
        assert!(
            hosts.contains(&"localhost") && hosts.contains(&"lb"),
            "the published balancer and its name on the network: {hosts:?}"
        );
        for needed in ["db", "pgbouncer"] {
            assert_eq!(
                instance["depends_on"][needed]["condition"], "service_healthy",
                "{name} waits for {needed}"
            );
        }
        // The balancer waits for each instance's HEALTHCHECK (the Dockerfile's /readyz).
        assert_eq!(
            compose["services"]["lb"]["depends_on"][*name]["condition"], "service_healthy",
            "lb waits for {name}"
        );
    }

    // The balancer and Prometheus name every instance; PgBouncer listens where DATABASE_URL
    // points and is the transaction pooler DATABASE_POOLER says.
    let haproxy = read("deploy/haproxy/haproxy.cfg");
    assert!(
        haproxy.contains("uri /readyz"),
        "HAProxy drains on readiness"
    );
    assert!(
        environment(first, "SHUTDOWN_DRAIN") != "0",
        "instances drain before closing"
    );
    let lb_volumes = format!("{:?}", compose["services"]["lb"]["volumes"]);
    assert!(
        lb_volumes.contains("deploy/haproxy/haproxy.cfg"),
        "{lb_volumes}"
    );
    let nginx = read("deploy/nginx/nginx.conf");
    let prometheus = read("deploy/prometheus/prometheus.yml");
    let metrics_port = environment(first, "METRICS_ADDRESS")
        .rsplit(':')
        .next()
        .unwrap();
    for name in &names {
        let port = environment(first, "PORT");
        assert!(
            haproxy.contains(&format!("server {name} {name}:{port} check")),
            "haproxy.cfg: {name}"
        );
        assert!(
            nginx.contains(&format!("server {name}:{port} ")),
            "nginx.conf: {name}"
        );
        assert!(
            prometheus.contains(&format!("\"{name}:{metrics_port}\"")),
            "prometheus.yml: {name}"
        );
    }
    let pgbouncer = read("deploy/pgbouncer/pgbouncer.ini");
    let setting = |key: &str| {
        pgbouncer
            .lines()
            .find_map(|line| line.strip_prefix(key)?.trim_start().strip_prefix('='))
            .map(str::trim)
            .unwrap_or_else(|| panic!("pgbouncer.ini sets no {key}"))
    };
    assert_eq!(setting("pool_mode"), "transaction");
    assert!(setting("ignore_startup_parameters").contains("extra_float_digits"));
    let url = environment(first, "DATABASE_URL");
    assert!(
        url.contains(&format!("@pgbouncer:{}/", setting("listen_port"))),
        "{url}"
    );
    // The API sends no session settings through a transaction pooler: the pooler sets the
    // statement timeout on each server connection.
    assert!(
        pgbouncer.contains("connect_query='SET statement_timeout = 5000'"),
        "{pgbouncer}"
    );
}

#[test]
fn every_file_compose_mounts_is_in_the_repository() {
    let compose = compose();
    let mut mounted = 0;
    for (name, service) in services(&compose) {
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let source = volume.as_str().unwrap().split(':').next().unwrap();
            // Named volumes (`pgdata:`) are Docker's; paths are this repository's files.
            if let Some(path) = source.strip_prefix("./") {
                let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
                assert!(
                    file.is_file(),
                    "{name} mounts {source}, which does not exist"
                );
                mounted += 1;
            }
        }
    }
    assert!(
        mounted >= 6,
        "the cluster's scripts and configuration: {mounted}"
    );
}

/// A misspelt variable in the compose file is silently ignored by the binary; the names must be
/// ones `students-api --help` lists (clap prints `[env: NAME=]`).
#[test]
fn every_variable_compose_gives_the_api_is_one_it_reads() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_students-api"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();

    let compose = compose();
    let services = api_services(&compose);
    assert_eq!(services.len(), 4, "api and api-1..3");
    for (name, service) in services {
        for variable in service["environment"].as_mapping().unwrap().keys() {
            let variable = variable.as_str().unwrap();
            // The log filter, read by tracing-subscriber (src/telemetry.rs), not by clap.
            if variable == "RUST_LOG" {
                continue;
            }
            assert!(
                help.contains(&format!("[env: {variable}="))
                    || help.contains(&format!("[env: {variable}]")),
                "{name} sets {variable}, which `students-api --help` does not list"
            );
        }
    }
}
