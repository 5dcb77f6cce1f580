//! `ivr-reports sandbox`: prints where it listens, serves until stopped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{run, stdout};

#[tokio::test]
async fn the_sandbox_command_serves_seeded_reports() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivr-reports"))
        .args(["sandbox", "--addr", "127.0.0.1:0", "--seed", "25"])
        .env_remove("INFOBIP_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let env = [
        ("INFOBIP_BASE_URL", url.as_str()),
        ("INFOBIP_API_KEY", "sandbox-api-key"),
    ];
    let o = run(&["fetch", "--limit", "1000", "-o", "jsonl"], &env).await;
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), 25);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn the_sandbox_command_throttles_logs_as_configured() {
    use crate::sandbox_limits::Running;
    let limited = Running::start(&[
        "--addr",
        "127.0.0.1:0",
        "--seed",
        "3",
        "--logs-rate-limit",
        "2",
    ])
    .await;
    let get = |addr: std::net::SocketAddr| async move {
        let client = ivr_reports_transport::Client::builder()
            .retry(ivr_reports_transport::RetryPolicy::never())
            .build()
            .unwrap();
        let req = http::Request::get(format!("http://{addr}/tts/3/logs"))
            .header("authorization", "App sandbox-api-key")
            .body(bytes::Bytes::new())
            .unwrap();
        client.send(req).await.unwrap()
    };
    let first = get(limited.addr).await;
    assert_eq!(first.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(first.body()).unwrap();
    assert_eq!(
        body["results"].as_array().unwrap().len(),
        3,
        "the seeded campaign is logged"
    );
    assert_eq!(get(limited.addr).await.status(), 200);
    let third = get(limited.addr).await;
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));

    let default = Running::start(&["--addr", "127.0.0.1:0"]).await;
    for _ in 0..3 {
        assert_eq!(
            get(default.addr).await.status(),
            200,
            "120 a minute by default"
        );
    }
}
