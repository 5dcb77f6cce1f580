//! What the sandbox writes looks like what Infobip writes: the v2 XML price element.

use std::time::Duration;

use bytes::Bytes;
use ivr_reports_codec::Format;
use ivr_reports_sandbox::Outcome;

use crate::Fixture;
use crate::push::{next, receiver};

fn text(body: &Bytes) -> String {
    String::from_utf8_lossy(body).into_owned()
}

/// An advanced send of `to` (one destination each, ids `{prefix}-{to}`), pushed to `notify`
/// when given.
fn advanced(prefix: &str, to: &[String], notify: Option<(&str, &str, u8)>) -> String {
    let destinations: Vec<String> = to
        .iter()
        .map(|to| format!(r#"{{"to":"{to}","messageId":"{prefix}-{to}"}}"#))
        .collect();
    let notify = notify.map_or(String::new(), |(url, content_type, version)| {
        format!(
            r#","notifyUrl":"{url}","notifyContentType":"{content_type}","notifyContentVersion":{version}"#
        )
    });
    format!(
        r#"{{"bulkId":"{prefix}","messages":[{{"from":"41790000100","destinations":[{}],"text":"Hi"{notify}}}]}}"#,
        destinations.join(",")
    )
}

/// v2 XML says `pricePerSecond` (the OpenAPI specification's XML); v1 XML keeps the v1 page's
/// `pricePerMessage`. Pages and pushes alike.
#[tokio::test]
async fn v2_xml_prices_per_second() {
    let f = Fixture::start().await;
    let to = vec![Outcome::AnsweredNoKeys.example_number()];
    for prefix in ["v1", "v2"] {
        assert_eq!(
            f.post("/tts/3/advanced", &advanced(prefix, &to, None))
                .await
                .status(),
            200
        );
    }
    let v1 = f.get("/tts/3/reports?bulkId=v1", Format::Xml.mime()).await;
    let v2 = f
        .get("/voice/1/reports?bulkId=v2", Format::Xml.mime())
        .await;
    let (v1, v2) = (text(v1.body()), text(v2.body()));
    assert!(
        v1.contains(
            "<price><pricePerMessage>0.03</pricePerMessage><currency>CHF</currency></price>"
        ),
        "{v1}"
    );
    assert!(
        v2.contains("<price><pricePerSecond>0.03</pricePerSecond><currency>CHF</currency></price>"),
        "{v2}"
    );
    assert!(!v2.contains("pricePerMessage"), "{v2}");

    let (server, mut rx, _) = receiver(0);
    let url = format!("http://{}/hook", server.local_addr());
    for version in [1, 2] {
        let body = advanced(
            &format!("p{version}"),
            &to,
            Some((&url, "application/xml", version)),
        );
        assert_eq!(f.post("/tts/3/advanced", &body).await.status(), 200);
        let (_, pushed) = next(&mut rx).await;
        let pushed = text(&pushed);
        let (want, not) = if version == 1 {
            ("<pricePerMessage>0.03</pricePerMessage>", "pricePerSecond")
        } else {
            ("<pricePerSecond>0.03</pricePerSecond>", "pricePerMessage")
        };
        assert!(
            pushed.contains(want) && !pushed.contains(not),
            "v{version}: {pushed}"
        );
    }
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}
