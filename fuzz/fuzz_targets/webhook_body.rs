//! Fuzz target: the webhook's body handling, through the collector's own code
//! (`decode_push_body`: `Format::of_body`, then either generation as a push is ingested).
//! The first byte picks the `Content-Type` and the configured generation (the seeds in
//! fuzz/corpus/webhook_body start with such a byte); the rest is the body. Every report it
//! accepts must come back unchanged from the JSON the sinks store, and every rejected item
//! must be a slice of the body.
#![no_main]

use ivr_reports_codec::{Codec, Format};
use ivr_reports_collector::{Generation, canonical_json, decode_push_body};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/json"),
    Some("application/xml; charset=utf-8"),
    Some("text/plain"),
];
const GENERATIONS: [Option<Generation>; 3] = [None, Some(Generation::V1), Some(Generation::V2)];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(selector & 3)];
    let generation = GENERATIONS[usize::from(selector >> 2) % 3];
    let Ok((decoded_as, reports, rejected)) = decode_push_body(content_type, generation, body)
    else {
        return;
    };
    if let Some(g) = generation {
        assert_eq!(
            decoded_as, g,
            "decoded as another generation than configured"
        );
    }
    for report in &reports {
        assert_eq!(report.generation(), decoded_as);
        let json = canonical_json(report);
        let codec = Codec::new(Format::Json).unwrap();
        let back = codec
            .decode_any(report.generation(), &json)
            .unwrap_or_else(|e| {
                panic!(
                    "stored JSON does not read back: {e}\n{}",
                    String::from_utf8_lossy(&json)
                )
            });
        assert_eq!(&back, report, "{}", String::from_utf8_lossy(&json));
    }
    for item in &rejected {
        assert!(
            body.windows(item.raw.len().max(1))
                .any(|w| w == item.raw.as_slice())
                || item.raw.is_empty(),
            "rejected item {} raw bytes are not from the body",
            item.index
        );
    }
});
