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
