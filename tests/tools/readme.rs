//! The README's `main` is `examples/readme.rs`, and what it prints for a bad configuration
//! is readable: the program runs in a scratch directory (as a user's new project would),
//! and its exact stderr is checked for a typo'd key, a TOML syntax error, a missing file
//! and no configuration at all.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
const EXAMPLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/readme.rs"));

/// The README's `main` block (the one with `Session::from_config`), unindented.
fn readme_main() -> String {
    let start = README
        .find("   ```rust,no_run\n   use actix_flask_session::{ServerSideSession, Session};")
        .expect("README has the five-minute main");
    let body = &README[start..];
    let body = &body[body.find('\n').expect("fence line") + 1..];
    let end = body.find("   ```\n").expect("closing fence");
    body[..end]
        .lines()
        .map(|line| line.strip_prefix("   ").unwrap_or(line))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn the_readme_main_is_the_example_character_for_character() {
    // The example is its doc comment, a blank line, then the README's code.
    let code: String = EXAMPLE
        .lines()
        .skip_while(|line| line.starts_with("//!"))
        .skip(1)
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(code, readme_main());
}

/// `examples/readme.rs`, built once.
fn example() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| crate::examples::build("readme"))
}

/// Runs the example in `dir` with only `env` set; returns its exit code and stderr.
fn run_in(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(example())
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the example runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A scratch directory with `Session.toml` (if given), canonical so that it is the path
/// the program prints.
fn scratch(session_toml: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().canonicalize().expect("canonical");
    if let Some(text) = session_toml {
        std::fs::write(path.join("Session.toml"), text).expect("write Session.toml");
    }
    (dir, path)
}

#[test]
fn a_typo_in_a_key_prints_the_file_and_a_suggestion() {
    let (_guard, dir) = scratch(Some(
        "SESSION_TYPE = \"filesystem\"\nSESSION_TPYE = \"redis\"\n",
    ));
    let (code, stderr) = run_in(&dir, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "Error: unknown key SESSION_TPYE in session configuration file {}/Session.toml; \
             did you mean SESSION_TYPE?\n",
            dir.display()
        )
    );
}

#[test]
fn a_toml_syntax_error_prints_the_file_the_line_and_the_reason() {
    let (_guard, dir) = scratch(Some(
        "SESSION_TYPE = \"filesystem\"\nPERMANENT_SESSION_LIFETIME = 7d\n",
    ));
    let (code, stderr) = run_in(&dir, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "Error: cannot read the session configuration from {}/Session.toml: \
             TOML parse error at line 2, column 31\n  |\n2 | PERMANENT_SESSION_LIFETIME = 7d\n  \
             |                               ^\nexpected newline, `#`\n",
            dir.display()
        )
    );
}

#[test]
fn a_missing_named_file_prints_its_path() {
    let (_guard, dir) = scratch(None);
    let (code, stderr) = run_in(&dir, &[("ACTIX_FLASK_SESSION_CONFIG", "conf/Session.toml")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "Error: cannot read the session configuration from {}/conf/Session.toml: \
             ACTIX_FLASK_SESSION_CONFIG=conf/Session.toml names this file, which does not \
             exist\n",
            dir.display()
        )
    );
}

#[test]
fn no_configuration_at_all_says_where_session_toml_was_looked_for() {
    let (_guard, dir) = scratch(None);
    let (code, stderr) = run_in(&dir, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "Error: missing SESSION_TYPE: it selects the session store; expected one of \
             filesystem, cachelib, redis, sqlalchemy (alias sql), memcached, mongodb, \
             dynamodb (any case). Read: the environment. No configuration file was read: \
             Session.toml is looked for in the current directory ({}); create it there, set \
             ACTIX_FLASK_SESSION_CONFIG to its path, or set the environment variable \
             SESSION_TYPE\n",
            dir.display()
        )
    );
}

#[test]
fn a_bad_value_names_the_key_the_value_and_what_is_allowed() {
    let (_guard, dir) = scratch(Some("SESSION_TYPE = \"rediss\"\n"));
    let (code, stderr) = run_in(&dir, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "Error: invalid value for SESSION_TYPE: \"rediss\"; expected one of filesystem, \
         cachelib, redis, sqlalchemy (alias sql), memcached, mongodb, dynamodb (any case)\n"
    );
}
