//! `docker-compose.yml` cannot run here (no Docker engine), so at least check that it says what
//! the README promises: PostgreSQL with a health check, and the API built from the Dockerfile.

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
}
