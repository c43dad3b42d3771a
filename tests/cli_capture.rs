//! A build without the `live` feature answers `capture` and `interfaces` with the way to get
//! live capture (install libpcap, build with the feature, grant the capabilities), exit 2.
#![cfg(not(feature = "live"))]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rdsflows");

fn assert_instructions(args: &[&str]) {
    let out = Command::new(BIN).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    for needed in [
        "apt-get install libpcap-dev",
        "cargo build --release --features live",
        "setcap cap_net_raw,cap_net_admin=eip",
    ] {
        assert!(
            stderr.contains(needed),
            "{args:?}: '{needed}' missing from:\n{stderr}"
        );
    }
}

#[test]
fn capture_without_the_feature_says_how_to_get_it() {
    assert_instructions(&["capture", "-i", "eth0"]);
    assert_instructions(&["capture", "-i", "lo", "-f", "tcp port 3389", "--json", "-"]);
}

#[test]
fn interfaces_without_the_feature_says_how_to_get_it() {
    assert_instructions(&["interfaces"]);
}

#[test]
fn live_capture_tests_need_the_feature() {
    eprintln!(
        "skipped: the live capture tests (tests/live.rs) run with `cargo test --features live`, as root"
    );
}
