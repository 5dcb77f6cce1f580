//! Fuzz target: `Timestamp::parse` on any text; whatever parses must print back to itself.
#![no_main]

use ivr_reports_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Timestamp::parse(text) {
        let printed = t.to_string();
        let back = Timestamp::parse(&printed)
            .unwrap_or_else(|e| panic!("{text:?} parsed, but its form {printed:?} did not: {e}"));
        assert_eq!(back, t, "{text:?} -> {printed:?} changed");
        let _ = t.local_date_time();
        let _ = std::time::SystemTime::from(t);
    }
});
