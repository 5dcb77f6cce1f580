//! Arbitrary reports injected into a sandbox come back through the facade unchanged, in
//! JSON and in XML, over real HTTP; only their dates are in the form the real API writes,
//! `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (millisecond precision, the same offset).

use ivr_reports::{CallReport, Format, Timestamp, VoiceReport};
use proptest::prelude::*;

use crate::strategies;

/// A date as the sandbox serves it: to the millisecond, in its own offset.
fn served(t: &mut Option<Timestamp>) {
    *t = t.map(|t| t.with_precision(Timestamp::DOCUMENTED_PRECISION).unwrap());
}

fn served_v1(mut r: VoiceReport) -> VoiceReport {
    for t in [
        &mut r.sent_at,
        &mut r.done_at,
        &mut r.start_time,
        &mut r.answer_time,
        &mut r.end_time,
    ] {
        served(t);
    }
    r
}

fn served_v2(mut r: CallReport) -> CallReport {
    served(&mut r.sent_at);
    if let Some(c) = r.voice_call.as_mut() {
        served(&mut c.start_time);
        served(&mut c.answer_time);
        served(&mut c.end_time);
    }
    r
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn v1_reports_come_back_equal(reports in prop::collection::vec(strategies::v1(), 0..12), xml in any::<bool>()) {
        let rt = runtime();
        rt.block_on(async {
            let sandbox = crate::sandbox().await;
            let format = if xml { Format::Xml } else { Format::Json };
            let client = crate::client(&sandbox, format);
            sandbox.inject_v1(reports.clone());
            let page = client.reports().limit(1000).await.unwrap();
            assert!(page.rejected.is_empty(), "{:?}", page.rejected);
            let served: Vec<_> = reports.into_iter().map(served_v1).collect();
            assert_eq!(page.reports, served);
            assert!(client.reports().await.unwrap().is_empty());
            sandbox.shutdown().await.unwrap();
        });
    }

    #[test]
    fn v2_reports_come_back_equal(reports in prop::collection::vec(strategies::v2(), 0..12), xml in any::<bool>()) {
        let rt = runtime();
        rt.block_on(async {
            let sandbox = crate::sandbox().await;
            let format = if xml { Format::Xml } else { Format::Json };
            let client = crate::client(&sandbox, format);
            sandbox.inject_v2(reports.clone());
            let page = client.call_reports().limit(1000).await.unwrap();
            assert!(page.rejected.is_empty(), "{:?}", page.rejected);
            let served: Vec<_> = reports.into_iter().map(served_v2).collect();
            assert_eq!(page.reports, served);
            sandbox.shutdown().await.unwrap();
        });
    }
}
