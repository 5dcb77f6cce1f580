//! What the sandbox writes looks like what Infobip writes: the v2 XML price element, and the
//! one date form, in every body it sends (send answers, report pages, pushes, recordings).

use std::time::Duration;

use bytes::Bytes;
use ivr_reports_codec::Format;
use ivr_reports_sandbox::Outcome;

use crate::Fixture;
use crate::push::{next, pushed, receiver};

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

/// Every date-time in `body` (`dddd-dd-ddT...`), as written.
fn dates(body: &str) -> Vec<&str> {
    let b = body.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut out = Vec::new();
    let mut i = 0;
    while i + 11 <= b.len() {
        let starts = (0..4).all(|k| digit(i + k))
            && b[i + 4] == b'-'
            && digit(i + 5)
            && digit(i + 6)
            && b[i + 7] == b'-'
            && digit(i + 8)
            && digit(i + 9)
            && b[i + 10] == b'T';
        if starts {
            let end = (i..b.len())
                .find(|&j| !(b[j].is_ascii_alphanumeric() || b"-+:.".contains(&b[j])))
                .unwrap_or(b.len());
            out.push(&body[i..end]);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, e.g. `2015-02-12T09:58:20.323+0100`.
fn documented(date: &str) -> bool {
    let b = date.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd.ddd+dddd";
    b.len() == shape.len()
        && b.iter().zip(shape).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            b'+' => *c == b'+' || *c == b'-',
            _ => c == s,
        })
}

/// Every body the sandbox writes carries its dates as `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, whatever
/// form an injected report came in (the real API renders its own dates: it never echoes a
/// `Z`, a colon in the offset, missing or nanosecond fractions).
#[tokio::test]
async fn every_date_the_sandbox_writes_has_the_documented_form() {
    let f = Fixture::start().await;
    let mut bodies: Vec<(String, String)> = Vec::new();

    // Sends of every outcome, pulled in both generations and formats.
    let numbers: Vec<String> = Outcome::ALL.iter().map(|o| o.example_number()).collect();
    for prefix in ["a", "b"] {
        let r = f
            .post("/tts/3/advanced", &advanced(prefix, &numbers, None))
            .await;
        assert_eq!(r.status(), 200);
        bodies.push((format!("send {prefix}"), text(r.body())));
    }
    let r = f
        .post("/tts/3/single", r#"{"to":"41790000001","text":"Hi"}"#)
        .await;
    bodies.push(("single".into(), text(r.body())));

    // Injected reports with every date form the decoder accepts.
    let forms = [
        "2015-02-12T09:58:20Z",
        "2015-02-12T09:58:20.323+01:00",
        "2025-02-10T12:27:27.765995100Z",
        "2015-02-12T09:58:20.3+0700",
        "1423731500323",
    ];
    let quote = |d: &str| {
        if d.contains('T') {
            format!("\"{d}\"")
        } else {
            d.to_string()
        }
    };
    let v1: Vec<String> = forms
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let d = quote(d);
            format!(
                r#"{{"messageId":"i1-{i}","to":"1","bulkId":"inj1","sentAt":{d},"doneAt":{d},"startTime":{d},"answerTime":{d},"endTime":{d}}}"#
            )
        })
        .collect();
    let v2: Vec<String> = forms
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let d = quote(d);
            format!(
                r#"{{"messageId":"i2-{i}","to":"1","bulkId":"inj2","sentAt":{d},"voiceCall":{{"startTime":{d},"answerTime":{d},"endTime":{d}}}}}"#
            )
        })
        .collect();
    for (generation, items) in [("v1", v1), ("v2", v2)] {
        let page = format!(r#"{{"results":[{}]}}"#, items.join(","));
        let r = f
            .admin("POST", &format!("/sandbox/reports/{generation}"), &page)
            .await;
        assert_eq!(crate::json(&r)["injected"], 5, "{}", text(r.body()));
    }

    let pages = [
        ("/tts/3/reports?bulkId=a&limit=1000", Format::Json),
        ("/voice/1/reports?bulkId=b&limit=1000", Format::Xml),
        ("/tts/3/reports?bulkId=inj1&limit=1000", Format::Xml),
        ("/voice/1/reports?bulkId=inj2&limit=1000", Format::Json),
        ("/tts/3/reports?limit=1000", Format::Json),
    ];
    for (path, format) in pages {
        let r = f.get(path, format.mime()).await;
        assert_eq!(r.status(), 200);
        bodies.push((format!("{path} {format:?}"), text(r.body())));
    }
    let answered = Outcome::AnsweredNoKeys.example_number();
    let r = f
        .get(&format!("/tts/3/files/a-{answered}/{answered}"), "*/*")
        .await;
    assert_eq!(r.status(), 200);
    bodies.push(("recording".into(), text(r.body())));

    // Pushes in both generations and formats.
    let (server, mut rx, _) = receiver(0);
    let url = format!("http://{}/hook", server.local_addr());
    let mut n = 0;
    for (content_type, version) in [
        ("application/json", 1),
        ("application/json", 2),
        ("application/xml", 1),
        ("application/xml", 2),
    ] {
        let prefix = format!("push{version}{}", content_type.len());
        let body = advanced(&prefix, &numbers[..2], Some((&url, content_type, version)));
        assert_eq!(f.post("/tts/3/advanced", &body).await.status(), 200);
        for _ in 0..2 {
            let (_, pushed) = next(&mut rx).await;
            bodies.push((format!("push {content_type} v{version}"), text(&pushed)));
        }
        n += 2;
    }
    pushed(&f, n).await;
    server.shutdown(Duration::from_secs(5)).await.unwrap();

    let mut seen = 0;
    for (what, body) in &bodies {
        for date in dates(body) {
            assert!(documented(date), "{what} writes {date}: {body}");
            seen += 1;
        }
    }
    // 20 sent calls (v1: up to 5 dates, v2: up to 4), 10 injected with 5 or 4, 8 pushes.
    assert!(seen >= 100, "only {seen} dates seen");
}
