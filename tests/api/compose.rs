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
}
