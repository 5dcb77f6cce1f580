//! Collects from a local sandbox by pull and by push into a JSONL journal, then prints the
//! counters: `cargo run -p ivr-reports-collector --example sandbox_collect`.

use std::time::{Duration, Instant};

use ivr_reports::{Auth, Client};
use ivr_reports_collector::model::CallReport;
use ivr_reports_collector::{Collector, SinkSpec, WebhookConfig};
use ivr_reports_sandbox::Sandbox;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::builder().api_key("example-key").start().await?;
    sandbox.inject_v2((0..5_000).map(|i| CallReport::new(format!("pull-{i}"), "41790000001")));

    let dir = std::env::temp_dir().join(format!("sandbox-collect-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let spec = SinkSpec::Jsonl(dir.join("reports.jsonl"));
    let collector = Collector::builder(spec.open().await?)
        .spool_path(spec.default_spool_path())
        .build();

    // Push: the sandbox sends the reports of calls placed with a notifyUrl to the webhook.
    let webhook = collector.bind_webhook("127.0.0.1:0".parse()?, WebhookConfig::new())?;
    let send = format!(
        r#"{{"messages":[{{"destinations":[{{"to":"41790000001"}},{{"to":"41790000002"}}],"text":"Hi","notifyUrl":"{}"}}]}}"#,
        webhook.url()
    );
    let http = ivr_reports::transport::Client::builder().build()?;
    let request = http::Request::post(format!("{}/tts/3/advanced", sandbox.base_url()))
        .header("content-type", "application/json")
        .header("authorization", "App example-key")
        .body(bytes::Bytes::from(send))?;
    http.send(request).await?;

    // Pull: every page until an empty one.
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .auth(Auth::app("example-key"))
        .build()?;
    let summary = collector.drain(&client).await?;
    println!(
        "pulled {} reports in {} pages",
        summary.received, summary.pages
    );

    // The pushes arrive on their own; wait for them (bounded).
    let started = Instant::now();
    while collector.counters().received_push < 2 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("{:#?}", collector.counters());
    println!("stored in {spec}");
    webhook.shutdown(Duration::from_secs(5)).await?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
