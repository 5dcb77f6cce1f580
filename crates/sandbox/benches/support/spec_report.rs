//! The spec page's report, many times over: shared by the facade and sandbox benchmarks
//! (included with `#[path]`), built from the golden fixture `v1/one-report.json`.

use ivr_reports_codec::{Codec, Format};
use ivr_reports_model::VoiceReport;

/// The first report of the golden fixture.
pub(crate) fn template() -> VoiceReport {
    let page = include_bytes!("v1/one-report.json");
    let codec = Codec::new(Format::Json).expect("the JSON codec is compiled in");
    let mut batch = codec
        .decode_page::<VoiceReport>(page)
        .expect("the golden fixture decodes");
    batch.reports.remove(0)
}

/// `template` with a distinct message id and destination per `i`.
pub(crate) fn report(template: &VoiceReport, i: usize) -> VoiceReport {
    let mut r = template.clone();
    r.message_id = format!("{i:08x}-6ab6-4abd-984d-ab3b1387e852");
    r.to = format!("3859811{:05}", i % 100_000);
    r.recorded_audio_file_url = Some(format!(
        "https://api.infobip.com/tts/3/files/{}/{}",
        r.message_id, r.to
    ));
    r
}
