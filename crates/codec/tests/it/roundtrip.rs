//! Round trips across arbitrary v1 and v2 reports: encode then decode is the identity, in
//! each format and across formats.

use ivr_reports_codec::model::{CallReport, VoiceReport};
use ivr_reports_codec::{Format, PriceName, Report};
use proptest::prelude::*;

use crate::codec;
use crate::strategies::{v1, v2};

/// Every report of `reports` comes back from a page of them in `format`, with either
/// price name, and each also alone.
pub(crate) fn round_trip<R: Report + Clone + PartialEq + std::fmt::Debug>(
    format: Format,
    reports: &[R],
) -> Result<(), TestCaseError> {
    for price_name in [PriceName::PricePerMessage, PriceName::PricePerSecond] {
        let c = codec(format).price_name(price_name);
        let page = c.encode_page(reports);
        let batch = c
            .decode_page::<R>(&page)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&page))))?;
        prop_assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
        prop_assert_eq!(&batch.reports, reports);
        for r in reports {
            let mut one = Vec::new();
            c.encode_report(r, &mut one);
            prop_assert_eq!(&c.decode_report::<R>(&one).unwrap(), r);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn v1_json_identity(reports in prop::collection::vec(v1(), 0..4)) {
        round_trip(Format::Json, &reports)?;
    }

    #[test]
    fn v1_xml_identity(reports in prop::collection::vec(v1(), 0..4)) {
        round_trip(Format::Xml, &reports)?;
    }

    #[test]
    fn v2_json_identity(reports in prop::collection::vec(v2(), 0..4)) {
        round_trip(Format::Json, &reports)?;
    }

    #[test]
    fn v2_xml_identity(reports in prop::collection::vec(v2(), 0..4)) {
        round_trip(Format::Xml, &reports)?;
    }

    #[test]
    fn json_to_model_to_xml_to_model(a in prop::collection::vec(v1(), 1..3),
                                     b in prop::collection::vec(v2(), 1..3)) {
        let json = codec(Format::Json);
        let xml = codec(Format::Xml);
        let from_json = json.decode_page::<VoiceReport>(&json.encode_page(&a)).unwrap().reports;
        let back = xml.decode_page::<VoiceReport>(&xml.encode_page(&from_json)).unwrap().reports;
        prop_assert_eq!(&back, &a);
        let from_json = json.decode_page::<CallReport>(&json.encode_page(&b)).unwrap().reports;
        let back = xml.decode_page::<CallReport>(&xml.encode_page(&from_json)).unwrap().reports;
        prop_assert_eq!(&back, &b);
    }

    #[test]
    fn fragments_make_the_same_page(reports in prop::collection::vec(v1(), 0..4)) {
        for format in Format::ALL {
            let c = codec(format);
            let fragments: Vec<Vec<u8>> = reports.iter().map(|r| {
                let mut f = Vec::new();
                c.encode_report(r, &mut f);
                f
            }).collect();
            let mut page = Vec::new();
            c.encode_page_from_fragments(fragments.iter().map(Vec::as_slice), &mut page);
            prop_assert_eq!(&page, &c.encode_page(&reports));
        }
    }
}
