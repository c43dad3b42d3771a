//! The signature loader seen from outside: the shipped file loads through `SignatureSet::load`,
//! and broken files give messages that name the file, the line and the field.

use std::path::{Path, PathBuf};

use rdsflows::classify::signature::{SignatureError, SignatureSet};

mod common;

/// Writes `text` to `name` in the scratch directory and loads it, expecting an error.
fn load_broken(name: &str, text: &str) -> (PathBuf, SignatureError) {
    let dir = common::TempDir::new(&format!("signatures-{name}"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let result = SignatureSet::load(&path);
    std::fs::remove_file(&path).unwrap();
    match result {
        Ok(set) => panic!("{name}: expected an error, got {} rules", set.rules.len()),
        Err(err) => (path, err),
    }
}

fn shipped_text() -> String {
    std::fs::read_to_string(shipped_path()).unwrap()
}

fn shipped_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("signatures/rds.toml")
}

#[test]
fn shipped_file_loads_from_disk_and_matches_builtin() {
    let path = shipped_path();
    let set = SignatureSet::load(&path).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(set.origin, path.display().to_string());
    assert_eq!(set.rules, SignatureSet::builtin().rules);
    assert!(
        set.rules.len() >= 39,
        "every seed bullet needs at least one rule"
    );
}

#[test]
fn unknown_role_names_path_line_and_field() {
    let text = shipped_text().replacen(
        "client_role = \"rd_web\"",
        "client_role = \"rd_webaccess\"",
        1,
    );
    let line = text
        .lines()
        .position(|l| l.contains("rd_webaccess"))
        .unwrap()
        + 1;
    let (path, err) = load_broken("unknown-role.toml", &text);
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:{line}:", path.display())),
        "{shown}"
    );
    assert!(shown.contains("field `client_role`"), "{shown}");
    assert_eq!(err.line, line);
}

#[test]
fn bad_port_names_path_line_and_field() {
    let text = "[[rule]]\nid = \"x\"\nservice = \"x\"\ntransport = \"tcp\"\nports = [\"10-5\"]\n";
    let (path, err) = load_broken("bad-port.toml", text);
    let shown = err.to_string();
    assert_eq!(
        shown,
        format!(
            "{}:5:10: field `ports`: port range `10-5` is reversed: the first port must not exceed the last",
            path.display()
        )
    );
}

#[test]
fn syntax_error_names_path_and_line() {
    let (path, err) = load_broken("syntax.toml", "[[rule]]\nid = \"x\"\nservice = rdp\n");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:3:11:", path.display())),
        "{shown}"
    );
    assert!(shown.contains("field `service`"), "{shown}");
}

#[test]
fn range_without_evidence_names_path_and_line() {
    let text = shipped_text().replacen("needs_evidence = \"rpc\"\n", "", 1);
    let (path, err) = load_broken("range.toml", &text);
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:", path.display())),
        "{shown}"
    );
    assert_eq!(err.field.as_deref(), Some("needs_evidence"));
    let line = text.lines().nth(err.line - 1).unwrap();
    assert!(
        line.starts_with("ports = [\"49152-65535\"]"),
        "{shown} -> {line:?}"
    );
}

#[test]
fn unreadable_file_names_the_path() {
    let dir = common::TempDir::new("signatures-missing");
    let path = dir.join("does-not-exist.toml");
    let err = SignatureSet::load(&path).unwrap_err();
    assert_eq!(err.line, 0);
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}: cannot read signature file", path.display())),
        "{shown}"
    );
}
