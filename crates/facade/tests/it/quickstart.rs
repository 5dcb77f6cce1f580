//! The `quickstart` example never consumes real reports unless asked explicitly.

use std::process::{Command, Stdio};

/// The built example, beside this test binary (`cargo test` builds examples too).
fn quickstart() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().unwrap().parent().unwrap();
    let path = debug
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is not built", path.display());
    path
}

#[tokio::test]
async fn quickstart_leaves_real_reports_alone_unless_asked() {
    let api = ivr_reports_sandbox::Sandbox::start().await.unwrap();
    api.simulate_campaign("real", 7);
    let pending = api.counters().pending;
    assert_eq!(pending, 7);
    let base_url = api.base_url().to_string();
    let key = api.credentials().api_key().to_string();
    let run = move |args: &'static [&'static str]| {
        let mut cmd = Command::new(quickstart());
        cmd.args(args)
            .env("INFOBIP_BASE_URL", &base_url)
            .env("INFOBIP_API_KEY", &key)
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    // With the real API configured but not asked for: the sandbox, nothing taken.
    let o = run(&[]).await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        api.counters().pending,
        7,
        "the quickstart consumed real reports"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--consume-real-reports"),
        "says how to ask"
    );
    // Asked explicitly: it takes them.
    let o = run(&["--consume-real-reports"]).await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(api.counters().pending, 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("7 reports"));
}
