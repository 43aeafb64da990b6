//! Building an example of this package from a test, with the features the test was built
//! with, so that cargo reuses the library the test already linked.

use std::path::PathBuf;
use std::process::Command;

/// The features this test was built with.
fn features() -> Vec<&'static str> {
    let mut on = Vec::new();
    macro_rules! check {
        ($($name:literal),*) => {$( if cfg!(feature = $name) { on.push($name); } )*};
    }
    check!(
        "default",
        "full",
        "filesystem",
        "cachelib",
        "testing",
        "redis",
        "redis-cluster",
        "redis-tls",
        "postgres",
        "mysql",
        "sqlite",
        "memcached",
        "mongodb",
        "dynamodb",
        "metrics"
    );
    on
}

/// Builds `examples/<name>.rs` and returns the path of its executable.
pub fn build(name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    // Without the variables cargo sets for this test process: build scripts that watch
    // them (ring watches CARGO_MANIFEST_DIR) would otherwise rebuild the whole dependency
    // tree here, and again in the next `cargo test`.
    for (var, _) in std::env::vars_os() {
        let var = var.to_string_lossy();
        if var.starts_with("CARGO_PKG_")
            || var.starts_with("CARGO_BIN_EXE_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
            ]
            .contains(&var.as_ref())
        {
            command.env_remove(var.as_ref());
        }
    }
    let output = command
        .args([
            "build",
            "--quiet",
            "--example",
            name,
            "--message-format=json",
        ])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .args(["--no-default-features", "--features", &features().join(",")])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo build --example {name} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == name)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reports the executable of example {name}"))
}
