//! The committed spec is the code's spec, and the docs are served.

use serde_json::{Value, json};
use students_api::{domain::SCOPES, openapi};

use crate::helpers::spawn_app;

fn committed_spec() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml at the repository root")
}

#[test]
fn the_committed_openapi_yaml_is_what_the_code_generates() {
    assert!(
        committed_spec() == openapi::spec_yaml(),
        "openapi.yaml is stale: regenerate it (and the SDKs) with `scripts/generate`"
    );
}

#[tokio::test]
async fn the_served_spec_is_the_committed_one_in_yaml_and_json() {
    let app = spawn_app().await;

    let yaml = app.get("/openapi.yaml").await.text().await.unwrap();
    let json: Value = app.get("/openapi.json").await.json().await.unwrap();

    assert_eq!(yaml, committed_spec());
    let from_yaml: Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(json, from_yaml);
}

#[tokio::test]
async fn swagger_ui_and_redoc_are_served() {
    let app = spawn_app().await;

    for (path, title) in [
        ("/docs", "<title>Students API — Swagger UI</title>"),
        ("/redoc", "<title>Students API — reference</title>"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<html"), "{path} is a page");
        assert!(html.contains(title), "{path} has a real title");
        assert!(html.contains("rel=\"icon\""), "{path} has a favicon");
        // Offline: the pages load nothing from elsewhere (poem-openapi's ReDoc asks Google).
        assert!(!html.contains("fonts.googleapis"), "{path} works offline");
        // They show our document, with an example per error status, not poem-openapi's own.
        assert!(
            html.contains("student-not-found"),
            "{path} shows the 404 example"
        );
    }
}

#[test]
fn each_error_status_shows_its_own_example() {
    let spec = spec();
    let responses = &spec["paths"]["/api/students/{id}"]["get"]["responses"];
    for (status, kind) in [
        ("404", "student-not-found"),
        ("422", "validation-failed"),
        ("500", "internal-error"),
        ("503", "service-unavailable"),
    ] {
        let example = &responses[status]["content"]["application/problem+json"]["example"];
        assert_eq!(
            example["status"],
            status.parse::<i64>().unwrap(),
            "{status}"
        );
        assert_eq!(
            example["type"],
            format!("urn:students-api:problem:{kind}"),
            "{status}"
        );
    }
}

#[test]
fn the_description_lists_every_problem_type_and_the_spec_says_where_it_lives() {
    let spec = spec();
    let description = spec["info"]["description"].as_str().unwrap();
    for (kind, _) in students_api::error::PROBLEM_TYPES {
        assert!(description.contains(&format!("`{kind}`")), "{kind}");
    }
    assert_eq!(spec["servers"][0]["url"], "/");
    assert!(spec["info"]["contact"]["url"].is_string());
    assert_eq!(spec["info"]["license"]["name"], "MIT");
}

#[test]
fn optional_filters_carry_no_example_swagger_ui_would_prefill() {
    let spec = spec();
    let parameters = spec["paths"]["/api/students"]["get"]["parameters"]
        .as_array()
        .unwrap();
    for parameter in parameters {
        assert!(
            parameter["schema"].get("example").is_none() && parameter.get("example").is_none(),
            "{} has no example",
            parameter["name"]
        );
    }
}

#[test]
fn condition_headers_and_cursors_publish_their_syntax() {
    let spec = spec();
    let get = &spec["paths"]["/api/students/{id}"]["get"]["parameters"];
    let if_none_match = get
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "If-None-Match")
        .unwrap();
    assert!(if_none_match["schema"]["pattern"].is_string());
    let list = &spec["paths"]["/api/students"]["get"]["parameters"];
    let cursor = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cursor")
        .unwrap();
    assert_eq!(cursor["schema"]["pattern"], "^[A-Za-z0-9_-]+$");
    assert_eq!(cursor["schema"]["maxLength"], 1024);
}

fn spec() -> Value {
    serde_yaml::from_str(&openapi::spec_yaml()).unwrap()
}

#[test]
fn operations_are_documented_with_stable_sdk_friendly_ids() {
    let spec = spec();
    let mut ids = Vec::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            for member in ["summary", "description"] {
                assert!(
                    operation[member].is_string(),
                    "{method} {path} has a {member}"
                );
            }
            assert!(
                !operation["tags"].as_array().unwrap().is_empty(),
                "{method} {path} has a tag"
            );
            ids.push(id);
        }
    }
    ids.sort();
    assert_eq!(
        ids,
        [
            "changeMyPassword",
            "createAccount",
            "createStudent",
            "createToken",
            "createWebhook",
            "deleteStudent",
            "deleteWebhook",
            "exportStudents",
            "getAccount",
            "getHealth",
            "getReadiness",
            "getStudent",
            "getStudentHistory",
            "getWebhook",
            "importStudents",
            "listAccounts",
            "listStudents",
            "listTokens",
            "listWebhookAttempts",
            "listWebhooks",
            "me",
            "pollChanges",
            "replaceStudent",
            "replayWebhookEvents",
            "resetPassword",
            "restoreStudent",
            "revokeToken",
            "rotateWebhookSecret",
            "signIn",
            "signOut",
            "streamChanges",
            "testWebhook",
            "updateAccount",
            "updateStudent",
            "updateWebhook",
        ]
    );
}

/// OpenAPI 3.0 lets only OAuth2 and OpenID Connect requirements list scopes: each protected
/// operation names its scope under `signIn` (the password flow, whose scopes are every scope
/// with its description) and offers `bearerAuth` beside it, with none.
#[test]
fn scopes_live_on_the_oauth2_scheme_and_api_tokens_are_the_alternative() {
    let spec = spec();
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["bearerAuth"]["type"], "http");
    let password = &schemes["signIn"]["flows"]["password"];
    assert_eq!(password["tokenUrl"], "/api/auth/token");
    let published: Vec<&str> = password["scopes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let all: Vec<&str> = SCOPES.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        published, all,
        "every scope, in the order the domain lists them"
    );
    // Every list of scopes is bounded by how many there are.
    for pointer in [
        "/components/schemas/TokenCreate/properties/scopes/maxItems",
        "/components/schemas/Token/properties/scopes/maxItems",
        "/components/schemas/Me/properties/scopes/maxItems",
    ] {
        assert_eq!(
            spec.pointer(pointer),
            Some(&json!(SCOPES.len())),
            "{pointer}"
        );
    }
    let mut protected = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(security) = operation["security"].as_array() else {
                continue;
            };
            protected += 1;
            assert_eq!(security.len(), 2, "{method} {path}");
            assert_eq!(security[1], json!({"bearerAuth": []}), "{method} {path}");
            let scopes = security[0]["signIn"].as_array().unwrap();
            assert!(scopes.len() <= 1, "{method} {path}");
        }
    }
    assert!(protected >= 14, "{protected}");
}

#[test]
fn every_error_response_is_problem_json() {
    let spec = spec();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('2') || status.starts_with('3') {
                    continue;
                }
                let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[test]
fn request_schemas_publish_the_rules_and_never_require_server_fields() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    for name in ["StudentCreate", "StudentReplace", "StudentPatch"] {
        let schema = &schemas[name];
        let properties: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(properties, ["name", "grade", "email"], "{name}");
        assert_eq!(schema["properties"]["name"]["maxLength"], 100);
        assert_eq!(schema["properties"]["name"]["minLength"], 1);
        // The whole e-mail rule, exactly: `format: email` would promise RFC 5322's.
        assert_eq!(
            schema["properties"]["email"]["pattern"],
            students_api::domain::Email::PATTERN
        );
        assert_eq!(schema["properties"]["email"]["maxLength"], 254);
        assert_eq!(schema["properties"]["email"]["nullable"], true);
        assert_eq!(
            schema["properties"]["grade"]["$ref"],
            "#/components/schemas/Grade"
        );
    }
    assert_eq!(schemas["Grade"]["enum"].as_array().unwrap().len(), 11);
    assert_eq!(
        schemas["StudentReplace"]["required"],
        serde_json::json!(["name", "grade", "email"])
    );
    assert!(
        schemas["StudentPatch"]["required"].is_null(),
        "PATCH requires nothing"
    );
    assert_eq!(schemas["Student"]["properties"]["id"]["readOnly"], true);
    let parameter = |name: &str| {
        spec["paths"]["/api/students"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("listStudents has `{name}`"))["schema"]
            .clone()
    };
    let limit = parameter("limit");
    assert_eq!(
        (limit["minimum"].as_i64(), limit["maximum"].as_i64()),
        (Some(1), Some(100))
    );
    assert_eq!(parameter("created_after")["format"], "date-time");
    assert_eq!(parameter("q")["maxLength"], 100);
    assert_eq!(
        parameter("grade")["items"]["$ref"],
        "#/components/schemas/Grade"
    );
    assert_eq!(
        parameter("sort")["$ref"],
        "#/components/schemas/StudentSort"
    );
    assert_eq!(schemas["StudentSort"]["enum"].as_array().unwrap().len(), 10);
}

#[test]
fn generators_get_names_for_every_grade_and_closed_request_bodies() {
    let spec = spec();
    let grade = &spec["components"]["schemas"]["Grade"];
    let values = grade["enum"].as_array().unwrap();
    let names: Vec<&str> = grade["x-enum-varnames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), values.len(), "one name per grade");
    assert_eq!(
        names
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        names.len(),
        "names are distinct (A+, A and A- must not collapse into one)"
    );
    assert!(
        names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_uppercase() || c == '_')),
        "{names:?} are identifiers"
    );
    assert_eq!((names[0], values[0].as_str()), ("A_PLUS", Some("A+")));

    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(content) = operation["requestBody"]["content"].as_object() else {
                continue;
            };
            // The import takes files, not a JSON object: each row is a closed `StudentCreate`.
            if operation["operationId"] == "importStudents" {
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["text/csv", "application/x-ndjson"]
                );
                continue;
            }
            // The password grant is a form, as RFC 6749 §4.3 and Swagger UI send it; the RFC
            // says unknown parameters are ignored, so it stays open.
            if operation["operationId"] == "signIn" {
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/x-www-form-urlencoded"]
                );
                continue;
            }
            assert_eq!(content.keys().collect::<Vec<_>>(), ["application/json"]);
            let name = content["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap()
                .trim_start_matches("#/components/schemas/");
            assert_eq!(
                spec["components"]["schemas"][name]["additionalProperties"], false,
                "{method} {path}: {name} says unknown fields are refused"
            );
        }
    }
}
