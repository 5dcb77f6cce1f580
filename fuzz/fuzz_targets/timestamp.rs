//! Fuzz target: `Timestamp::parse` on any text, and `Timestamp::from_unix` on any parts
//! (the input's first 15 bytes); whatever is accepted must print in a form that parses
//! back to the same timestamp.
#![no_main]

use ivr_reports_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fn prints_back(t: Timestamp, from: &dyn std::fmt::Debug) {
    let printed = t.to_string();
    let back = Timestamp::parse(&printed)
        .unwrap_or_else(|e| panic!("{from:?} was accepted, but its form {printed:?} did not: {e}"));
    assert_eq!(back, t, "{from:?} -> {printed:?} changed");
    let _ = t.local_date_time();
    let _ = std::time::SystemTime::from(t);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(t) = Timestamp::parse(text)
    {
        prints_back(t, &text);
    }
    if let Some(parts) = data.get(..15) {
        let (secs, rest) = parts.split_at(8);
        let (nanos, rest) = rest.split_at(4);
        let (offset, precision) = rest.split_at(2);
        let parts = (
            i64::from_le_bytes(secs.try_into().unwrap_or_default()),
            u32::from_le_bytes(nanos.try_into().unwrap_or_default()),
            i16::from_le_bytes(offset.try_into().unwrap_or_default()),
            precision[0],
        );
        if let Ok(t) = Timestamp::from_unix(parts.0, parts.1, parts.2, parts.3) {
            prints_back(t, &parts);
        }
        if let Ok(t) = Timestamp::from_unix_millis(parts.0) {
            prints_back(t, &parts.0);
        }
    }
});
