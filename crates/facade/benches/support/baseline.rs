//! The baseline of the benchmarks: what a plain serde user would write for a v1 page (owned
//! `String`s, an `f64` price). Shared by the codec and facade benches via `#[path]`.

// Fields exist to be decoded and encoded, not read.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BasePage {
    pub(crate) results: Vec<BaseReport>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BaseReport {
    bulk_id: Option<String>,
    message_id: String,
    to: String,
    sent_at: Option<String>,
    done_at: Option<String>,
    duration: Option<u32>,
    mcc_mnc: Option<String>,
    dtmf_codes: Option<String>,
    recorded_audio_file_url: Option<String>,
    price: Option<BasePrice>,
    status: Option<BaseStatus>,
    error: Option<BaseError>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BasePrice {
    #[serde(alias = "pricePerMessage")]
    price_per_second: f64,
    currency: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaseStatus {
    group_id: u32,
    group_name: String,
    id: u32,
    name: String,
    description: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaseError {
    group_id: u32,
    group_name: String,
    id: u32,
    name: String,
    description: String,
    permanent: bool,
}
