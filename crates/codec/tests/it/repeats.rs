//! Objects that repeat across the reports of a page (statuses, errors, prices: the JSON
//! decoder reuses what it read for the same bytes) decode exactly as when read alone.

use ivr_reports_codec::model::{CallReport, VoiceReport};
use ivr_reports_codec::{ErrorKind, Format};
use proptest::prelude::*;

use crate::codec;
use crate::strategies::{v1, v2};

/// A page of `picks.len()` reports, each the identity of one pool report with the status,
/// error and price of others: few distinct objects, repeated in any order.
fn mixed<R: Clone>(
    pool: &[R],
    picks: &[(usize, usize, usize, usize)],
    parts: impl Fn(&mut R, &R, &R, &R),
) -> Vec<R> {
    picks
        .iter()
        .map(|&(a, b, c, d)| {
            let n = pool.len();
            let mut r = pool[a % n].clone();
            parts(&mut r, &pool[b % n], &pool[c % n], &pool[d % n]);
            r
        })
        .collect()
}

fn picks() -> impl Strategy<Value = Vec<(usize, usize, usize, usize)>> {
    prop::collection::vec((0..16usize, 0..16usize, 0..16usize, 0..16usize), 0..32)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn v1_repeated_objects_read_as_alone(pool in prop::collection::vec(v1(), 1..14), picks in picks()) {
        let reports = mixed(&pool, &picks, |r: &mut VoiceReport, s, e, p| {
            r.status = s.status.clone();
            r.error = e.error.clone();
            r.price = p.price.clone();
        });
        crate::roundtrip::round_trip(Format::Json, &reports)?;
    }

    #[test]
    fn v2_repeated_objects_read_as_alone(pool in prop::collection::vec(v2(), 1..14), picks in picks()) {
        let reports = mixed(&pool, &picks, |r: &mut CallReport, s, e, p| {
            r.status = s.status.clone();
            r.error = e.error.clone();
            r.price = p.price.clone();
        });
        crate::roundtrip::round_trip(Format::Json, &reports)?;
    }
}

const STATUS: &str = r#"{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"}"#;

fn report(id: usize, status: &str, rest: &str) -> String {
    format!(r#"{{"messageId":"m{id}","to":"385","status":{status}{rest}}}"#)
}

fn decode(items: &[String]) -> ivr_reports_codec::Batch<VoiceReport> {
    let page = format!("{{\"results\":[{}]}}", items.join(",\n"));
    codec(Format::Json)
        .decode_page::<VoiceReport>(page.as_bytes())
        .unwrap()
}

#[test]
fn near_repeats_are_read_for_what_they_say() {
    let items = [
        report(0, STATUS, ""),
        // The same object but its last field.
        report(1, &STATUS.replace("to handset", "to handset!"), ""),
        // A prefix of the first, closed early: a different status.
        report(2, r#"{"groupId":3,"groupName":"DELIVERED","id":7}"#, ""),
        // The same fields with other spacing.
        report(3, &STATUS.replace(',', ", "), ""),
        report(4, STATUS, ""),
    ];
    let batch = decode(&items);
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    let s: Vec<_> = batch
        .reports
        .iter()
        .map(|r| r.status.clone().unwrap())
        .collect();
    assert_eq!(s[0].description, "Message delivered to handset");
    assert_eq!(s[1].description, "Message delivered to handset!");
    assert_eq!((s[2].id, &*s[2].name), (7, "PENDING_ENROUTE"));
    assert_eq!(s[3], s[0]);
    assert_eq!(s[4], s[0]);
}

#[test]
fn a_repeated_invalid_object_is_rejected_each_time() {
    let bad = r#"{"groupId":3,"id":"five"}"#;
    let items = [
        report(0, bad, ""),
        report(1, STATUS, ""),
        report(2, bad, ""),
    ];
    let batch = decode(&items);
    assert_eq!(batch.reports.len(), 1);
    let rejected: Vec<_> = batch
        .rejected
        .iter()
        .map(|r| (r.index, r.error.path().to_string()))
        .collect();
    assert_eq!(
        rejected,
        [
            (0, "results[0].status.id".to_string()),
            (2, "results[2].status.id".to_string())
        ]
    );
}

#[test]
fn errors_after_a_repeated_object_point_where_they_are() {
    let bad_duration = r#","duration":"ten""#;
    let items = [report(0, STATUS, ""), report(1, STATUS, bad_duration)];
    let batch = decode(&items);
    assert_eq!(batch.reports.len(), 1);
    let error = &batch.rejected[0].error;
    assert_eq!(error.kind(), ErrorKind::InvalidValue);
    assert_eq!(error.path(), "results[1].duration");
    // The second report starts on line 2; its bad value right after the status.
    let second = &items[1];
    let column = second.find("\"ten\"").unwrap() + 1;
    assert_eq!(
        (error.line(), error.column()),
        (Some(2), Some(column as u32))
    );
}
