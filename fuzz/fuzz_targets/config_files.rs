//! Any text as a signature file and as a deployment file: a value or an error with a line, never
//! a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdsflows::classify::signature::SignatureSet;
use rdsflows::deployment::Deployment;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = SignatureSet::from_toml(text, "fuzz.toml") {
        let _ = e.to_string();
    }
    match Deployment::from_toml(text, "fuzz.toml") {
        Ok(d) => {
            // What `rdsflows roles` writes must load again.
            Deployment::from_toml(&d.to_toml(), "again.toml").expect("to_toml output loads");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
