//! Conformance with a client we did not write: Infobip's official Python SDK (6.0.0).
//!
//! `.ci/run` installs `infobip-api-python-client==6.0.0` into a virtualenv and points
//! `IVR_REPORTS_PYTHON` at its interpreter. Locally, without it, the test says how to run it
//! and passes; under CI (`CI` set) a missing interpreter fails the test.

use std::path::Path;

use crate::{Fixture, KEY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_conformance() {
    let Some(python) = std::env::var_os("IVR_REPORTS_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set IVR_REPORTS_PYTHON (see .ci/run)"
        );
        eprintln!(
            "python_sdk_conformance: not run: set IVR_REPORTS_PYTHON to a python with \
             infobip-api-python-client==6.0.0 installed (see .ci/run)"
        );
        return;
    };
    let f = Fixture::start().await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/conformance.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(f.sandbox.base_url())
        .arg(KEY)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python SDK conformance failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    eprintln!("{}", stdout.trim());
}
