//! Arbitrary reports injected into a sandbox come back through the facade unchanged, in
//! JSON and in XML, over real HTTP.

use ivr_reports::Format;
use proptest::prelude::*;

use crate::strategies;

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
            assert_eq!(page.reports, reports);
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
            assert_eq!(page.reports, reports);
            sandbox.shutdown().await.unwrap();
        });
    }
}
