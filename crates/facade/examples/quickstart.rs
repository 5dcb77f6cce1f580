//! Quickstart: fetch IVR delivery reports and print them.
//!
//! By default it starts the local sandbox in-process, places a few simulated calls through
//! it, and fetches their reports, even when `INFOBIP_BASE_URL` and `INFOBIP_API_KEY` are
//! set: the API hands each report out once, so a tutorial must never take real reports
//! from the collector that should store them.
//!
//! ```sh
//! cargo run -p ivr-reports --example quickstart
//! ```
//!
//! Only when asked explicitly does it talk to the real API (and consume what it fetches:
//! the reports are printed here and nowhere else):
//!
//! ```sh
//! INFOBIP_BASE_URL=... INFOBIP_API_KEY=... \
//!   cargo run -p ivr-reports --example quickstart -- --consume-real-reports
//! ```

use std::borrow::Cow;

use ivr_reports::bytes::Bytes;
use ivr_reports::http::{Method, Response};
use ivr_reports::{Auth, Client, Endpoint, Error, Format, ReportsQuery, VoiceReport};

/// `POST /tts/3/advanced`: places calls. An endpoint of our own, built on [`Endpoint`].
struct PlaceCalls<'a> {
    numbers: &'a [&'a str],
}

impl Endpoint for PlaceCalls<'_> {
    type Output = ();

    fn method(&self) -> Method {
        Method::POST
    }

    fn path(&self) -> Cow<'_, str> {
        "/tts/3/advanced".into()
    }

    fn format(&self, _preferred: Format) -> Format {
        Format::Json
    }

    fn body(&self) -> Option<(Format, Bytes)> {
        let destinations: Vec<String> = self
            .numbers
            .iter()
            .map(|to| format!(r#"{{"to":"{to}"}}"#))
            .collect();
        let body = format!(
            r#"{{"bulkId":"quickstart","messages":[{{"from":"41790000100","destinations":[{}],"text":"Press 1 to confirm your appointment","language":"en"}}]}}"#,
            destinations.join(",")
        );
        Some((Format::Json, Bytes::from(body)))
    }

    fn decode(&self, _response: Response<Bytes>) -> Result<(), Error> {
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let asked = std::env::args()
        .skip(1)
        .any(|a| a == "--consume-real-reports");
    let configured = std::env::var("INFOBIP_BASE_URL")
        .ok()
        .zip(std::env::var("INFOBIP_API_KEY").ok());
    let real = match (asked, configured) {
        (true, Some(real)) => Some(real),
        (true, None) => {
            return Err("--consume-real-reports needs INFOBIP_BASE_URL and INFOBIP_API_KEY".into());
        }
        (false, Some(_)) => {
            eprintln!(
                "INFOBIP_BASE_URL/INFOBIP_API_KEY are set but not used: real reports are \
                 handed out once, pass --consume-real-reports to fetch (and consume) them"
            );
            None
        }
        (false, None) => None,
    };
    let mut sandbox = None;
    let client = match real {
        Some((base_url, api_key)) => {
            eprintln!("fetching from {base_url}: fetched reports are consumed");
            Client::builder()
                .base_url(base_url)
                .auth(Auth::app(api_key))
                .build()?
        }
        None => {
            let started = ivr_reports_sandbox::Sandbox::start().await?;
            eprintln!("using a local sandbox at {}", started.base_url());
            let client = Client::builder()
                .base_url(started.base_url())
                .auth(Auth::app(started.credentials().api_key()))
                .build()?;
            // A human who presses 1, one who presses 2, a voicemail, a busy line, no answer.
            let numbers = [
                "41790000001",
                "41790000002",
                "41790000003",
                "41790000004",
                "41790000005",
            ];
            client.send(&PlaceCalls { numbers: &numbers }).await?;
            sandbox = Some(started);
            client
        }
    };

    let mut pages = client.drain::<VoiceReport>(ReportsQuery::new().limit(ivr_reports::Limit::MAX));
    let mut total = 0;
    while let Some(page) = pages.next().await {
        let page = page?;
        for r in &page.reports {
            total += 1;
            println!(
                "{:<38} to {:<13} {:<22} dtmf {:<4} {:>3}s  cost {}",
                r.message_id,
                r.to,
                r.status.as_ref().map_or("-", |s| s.name.as_ref()),
                r.dtmf_codes.as_deref().unwrap_or("-"),
                r.duration.unwrap_or(0),
                match (r.cost(), &r.price) {
                    (Some(cost), Some(price)) => format!("{cost} {}", price.currency),
                    _ => "-".to_string(),
                },
            );
        }
        for rejected in &page.rejected {
            eprintln!(
                "could not decode report #{}: {}",
                rejected.index, rejected.error
            );
        }
    }
    println!("{total} reports");
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await?;
    }
    Ok(())
}
