//! Conformance with a client we did not write: Infobip's official Python SDK (6.0.0).
//!
//! `cargo xtask ci test` installs `infobip-api-python-client==6.0.0` into a virtualenv and
//! points `IVR_REPORTS_PYTHON` at its interpreter. Without it the test fails and says how to
//! provide it: it never passes unrun.

use std::path::Path;

use crate::{Fixture, KEY};

/// How to get the interpreter; said whenever it is missing or unusable.
const HOW: &str = "`cargo xtask ci test` prepares it (README.md, \"Tests\"); \
                   to run the tests another way, `eval \"$(cargo xtask env)\"` first";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_conformance() {
    let python = match std::env::var_os("IVR_REPORTS_PYTHON") {
        Some(python) if !python.is_empty() => python,
        _ => panic!(
            "python_sdk_conformance needs a python with infobip-api-python-client==6.0.0: \
             IVR_REPORTS_PYTHON is unset; {HOW}"
        ),
    };
    let f = Fixture::start().await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/conformance.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(f.sandbox.base_url())
        .arg(KEY)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "python_sdk_conformance cannot run IVR_REPORTS_PYTHON={}: {e}; {HOW}",
                Path::new(&python).display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python SDK conformance failed (a missing SDK module means the interpreter lacks \
         infobip-api-python-client==6.0.0; {HOW}):\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    eprintln!("{}", stdout.trim());
}
