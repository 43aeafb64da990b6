//! The README's metrics table against the list the code emits from, and the label tables
//! against their enums.

use super::instrumented::OPERATIONS;
use super::names::{Kind, METRICS};
use super::{Load, Save, error_kind};
use crate::error::StoreError;

const README: &str = include_str!("../../README.md");

/// The README's metrics table: (name, type, labels) of each row.
fn readme_table() -> Vec<(String, String, Vec<String>)> {
    let start = README
        .find("| metric | type | labels | meaning |")
        .expect("README has the metrics table");
    README[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let unquote = |cell: &str| cell.trim_matches('`').to_owned();
            let labels = cells[3]
                .split(',')
                .map(|label| unquote(label.trim()))
                .filter(|label| !label.is_empty())
                .collect();
            (unquote(cells[1]), cells[2].to_owned(), labels)
        })
        .collect()
}

#[test]
fn the_readme_metrics_table_lists_exactly_what_the_code_emits() {
    let code: Vec<(String, String, Vec<String>)> = METRICS
        .iter()
        .map(|&(name, kind, labels, _)| {
            let kind = match kind {
                Kind::Counter => "counter",
                Kind::Histogram => "histogram",
            };
            (
                name.to_owned(),
                kind.to_owned(),
                labels.iter().map(|l| (*l).to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(readme_table(), code);
}

#[test]
fn every_outcome_label_is_in_the_readme() {
    let outcomes = [
        Load::Hit,
        Load::Miss,
        Load::Fresh,
        Load::Corrupt,
        Load::BadCookie,
        Load::Error,
    ]
    .map(Load::as_str);
    let saves = [
        Save::Created,
        Save::Regenerated,
        Save::Updated,
        Save::Unchanged,
        Save::Deleted,
        Save::Gone,
    ]
    .map(Save::as_str);
    let operations = OPERATIONS.iter().map(|(name, _)| *name);
    let call_outcomes = OPERATIONS
        .iter()
        .flat_map(|(_, outcomes)| outcomes.iter().copied());
    for label in outcomes
        .into_iter()
        .chain(saves)
        .chain(operations)
        .chain(call_outcomes)
        .chain(["outage", "bad_data", "other", "background", "manual"])
    {
        assert!(
            README.contains(&format!("`{label}`")),
            "the README's metrics section does not name `{label}`"
        );
    }
}

#[test]
fn error_kinds_split_outages_from_bad_data() {
    let io = || std::io::Error::other("boom");
    assert_eq!(
        error_kind(&StoreError::unavailable("redis", io())),
        "outage"
    );
    assert_eq!(error_kind(&StoreError::backend("redis", io())), "other");
    let bad = StoreError::BadData {
        backend: "redis",
        message: "a list".to_owned(),
    };
    assert_eq!(error_kind(&bad), "bad_data");
    let invalid = StoreError::InvalidInput {
        backend: "redis",
        message: "too long".to_owned(),
    };
    assert_eq!(error_kind(&invalid), "other");
}

#[test]
fn every_operation_ends_with_its_error_outcome() {
    for (name, outcomes) in OPERATIONS {
        assert_eq!(outcomes.last(), Some(&"error"), "{name}");
    }
}
