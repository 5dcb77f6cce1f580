//! The API's error body, `requestError.serviceException`, in both formats.

use ivr_reports_codec::model::ApiError;
use ivr_reports_codec::{ErrorKind, Format};
use proptest::prelude::*;

use crate::codec;

#[test]
fn decodes_the_documented_bodies() {
    let json = br#"{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}"#;
    let e = codec(Format::Json).decode_api_error(json).unwrap();
    assert_eq!(e, ApiError::new("UNAUTHORIZED", "Invalid login details"));

    let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ApiException>
  <requestError>
    <serviceException>
      <messageId>BAD_REQUEST</messageId>
      <text>Bad request</text>
      <validationErrors>
        <limit>must be between 1 and 1000</limit>
        <limit>must be a number</limit>
        <to><message>missing</message><message>empty</message></to>
      </validationErrors>
    </serviceException>
  </requestError>
</ApiException>"#;
    let e = codec(Format::Xml).decode_api_error(xml).unwrap();
    assert_eq!(e.message_id, "BAD_REQUEST");
    assert_eq!(
        e.validation_errors["limit"],
        ["must be between 1 and 1000", "must be a number"]
    );
    assert_eq!(e.validation_errors["to"], ["missing", "empty"]);
}

#[test]
fn encodes_the_documented_shape() {
    let mut e = ApiError::new("BAD_REQUEST", "Bad request");
    e.validation_errors
        .insert("limit".into(), vec!["must be between 1 and 1000".into()]);
    let json = codec(Format::Json).encode_api_error(&e);
    assert_eq!(
        String::from_utf8(json).unwrap(),
        r#"{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Bad request","validationErrors":{"limit":["must be between 1 and 1000"]}}}}"#
    );
    let xml = codec(Format::Xml).encode_api_error(&e);
    assert_eq!(
        String::from_utf8(xml).unwrap(),
        "<ApiException><requestError><serviceException><messageId>BAD_REQUEST</messageId><text>Bad request</text><validationErrors><limit>must be between 1 and 1000</limit></validationErrors></serviceException></requestError></ApiException>"
    );
}

#[test]
fn a_body_without_service_exception_is_an_envelope_error() {
    for format in Format::ALL {
        let body: &[u8] = if format == Format::Json {
            b"{\"results\":[]}"
        } else {
            b"<reportResponse/>"
        };
        let e = codec(format).decode_api_error(body).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Envelope, "{format}: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn round_trips(message_id in "[A-Z_]{0,12}", text in "\\PC{0,20}",
                   errors in prop::collection::btree_map("[a-zA-Z0-9_.\\[\\]-]{1,10}",
                       prop::collection::vec("\\PC{0,10}", 1..3), 0..3)) {
        let mut e = ApiError::new(message_id, text);
        e.validation_errors = errors;
        for format in Format::ALL {
            let c = codec(format);
            let back = c.decode_api_error(&c.encode_api_error(&e)).unwrap();
            prop_assert_eq!(&back, &e);
        }
    }
}
