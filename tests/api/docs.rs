//! The pages in docs/ that restate what the code defines are held to it: the problem types
//! (`error::PROBLEM_TYPES`) and the settings (`config::Config`, as clap reads them).

use std::collections::BTreeSet;

use clap::Args as _;
use students_api::{config::Config, error::PROBLEM_TYPES};

fn page(name: &str) -> String {
    let path = format!("{}/docs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// The cells of each table row whose first cell is a code span, keyed by that span's text.
fn rows_by_first_cell(markdown: &str) -> Vec<(String, Vec<String>)> {
    markdown
        .lines()
        .filter_map(|line| {
            let cells: Vec<String> = line
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split(" | ")
                .map(|cell| cell.trim().to_owned())
                .collect();
            let key = cells
                .first()?
                .strip_prefix('`')?
                .strip_suffix('`')?
                .to_owned();
            Some((key, cells))
        })
        .collect()
}

#[test]
fn errors_md_lists_every_problem_type_with_its_status_and_no_other() {
    let rows = rows_by_first_cell(&page("errors.md"));
    let listed: BTreeSet<&str> = rows.iter().map(|(kind, _)| kind.as_str()).collect();
    let defined: BTreeSet<&str> = PROBLEM_TYPES.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        listed, defined,
        "docs/errors.md's table against PROBLEM_TYPES"
    );
    for (kind, meaning) in PROBLEM_TYPES {
        let (_, cells) = rows.iter().find(|(k, _)| k == kind).unwrap();
        let status = meaning.split(':').next().unwrap();
        assert_eq!(
            cells[1], status,
            "docs/errors.md gives `{kind}` another status"
        );
    }
}

#[test]
fn operations_md_lists_every_setting_with_its_flag_and_default() {
    let rows = rows_by_first_cell(&page("operations.md"));
    let command = Config::augment_args(clap::Command::new("students-api"));
    let mut settings = BTreeSet::new();
    for arg in command.get_arguments() {
        let Some(env) = arg.get_env() else { continue };
        let env = env.to_string_lossy().into_owned();
        let (_, cells) = rows
            .iter()
            .find(|(variable, _)| *variable == env)
            .unwrap_or_else(|| panic!("docs/operations.md has no row for {env}"));
        let long = arg.get_long().unwrap();
        assert_eq!(cells[1], format!("`--{long}`"), "{env}'s flag");
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|value| value.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() {
            let default = format!("`{}`", defaults.join(","));
            assert!(
                cells[2].starts_with(&default),
                "{env}: the default is {default}, the page says {}",
                cells[2]
            );
        }
        settings.insert(env);
    }
    // Read by the environment only, outside clap: the embedded server's and the log filter's.
    let outside_clap = ["RUST_LOG", "PG_BIN", "STUDENTS_API_PGDATA"];
    for (variable, cells) in &rows {
        if cells.len() == 4 && (cells[1].is_empty() || cells[1].starts_with("`--")) {
            assert!(
                settings.contains(variable) || outside_clap.contains(&variable.as_str()),
                "docs/operations.md lists {variable}, which is not a setting"
            );
        }
    }
    assert!(settings.len() >= 18, "found only {settings:?}");
}
