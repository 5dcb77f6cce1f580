//! proptest strategies for arbitrary v1 and v2 reports.

use ivr_reports_codec::model::{
    AnsweredBy, CallReport, Decimal, Direction, ErrorGroup, IvrData, Price, ReportError, Status,
    StatusGroup, Timestamp, VoiceCall, VoiceReport,
};
use proptest::option::of;
use proptest::prelude::*;

/// Text with the characters that need escaping in JSON or XML, and non-ASCII.
pub(crate) fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&\"'\\\\/\\n\\t\\r\u{1}é€😀{}\\[\\],:;=#-]{0,12}"
}

/// Text without JSON or XML structure characters, for mutation tests.
pub(crate) fn plain_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ./:-]{0,12}"
}

pub(crate) fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        -62_000_000_000i64..253_000_000_000,
        0u32..1_000_000_000,
        -1439i16..=1439,
        0u8..=9,
    )
        .prop_map(|(secs, nanos, offset, precision)| {
            Timestamp::from_unix(secs, nanos, offset, precision).unwrap()
        })
}

pub(crate) fn decimal() -> impl Strategy<Value = Decimal> {
    (any::<i64>(), 0u32..=12).prop_map(|(m, scale)| Decimal::new(m, scale))
}

fn status(text: BoxedStrategy<String>) -> impl Strategy<Value = Status> {
    prop_oneof![
        prop::sample::select(vec![5u32, 15, 26, 53, 91, 96, 97, 98, 99, 100])
            .prop_map(|id| Status::known(id).unwrap()),
        (any::<u32>(), 0u32..8, text.clone(), text.clone(), text).prop_map(
            |(id, group, name, group_name, description)| {
                let mut s = Status::new(id, StatusGroup::from_id(group), name);
                s.group_name = group_name.into();
                s.description = description.into();
                s
            }
        ),
    ]
}

fn report_error(text: BoxedStrategy<String>) -> impl Strategy<Value = ReportError> {
    prop_oneof![
        prop::sample::select(vec![5000u32, 5001, 5003, 5480, 5603, 10000, 10201])
            .prop_map(|id| ReportError::known(id).unwrap()),
        (any::<u32>(), 0u32..6, text.clone(), text, any::<bool>()).prop_map(
            |(id, group, name, description, permanent)| {
                let mut e = ReportError::new(id, ErrorGroup::from_id(group), name);
                e.description = description.into();
                e.permanent = permanent;
                e
            }
        ),
    ]
}

fn price(text: BoxedStrategy<String>) -> impl Strategy<Value = Price> {
    (decimal(), text).prop_map(|(d, c)| Price::new(d, c))
}

/// An arbitrary v1 report, its strings drawn from `text`.
pub(crate) fn v1_with(text: BoxedStrategy<String>) -> impl Strategy<Value = VoiceReport> {
    let t = || of(text.clone());
    let ts = || of(timestamp());
    (
        (
            text.clone(),
            text.clone(),
            t(),
            ts(),
            ts(),
            ts(),
            ts(),
            ts(),
        ),
        (
            of(any::<u32>()),
            of(decimal()),
            t(),
            t(),
            t(),
            t(),
            t(),
            t(),
        ),
        (
            of(price(text.clone().boxed())),
            of(status(text.clone().boxed())),
            of(report_error(text.clone().boxed())),
            t(),
            t(),
        ),
    )
        .prop_map(
            |(
                (message_id, to, bulk_id, sent_at, done_at, start_time, end_time, answer_time),
                (duration, file_duration, mcc_mnc, callback_data, dtmf, url, sid, sname),
                (price, status, error, dtmf_json, transcribed),
            )| {
                let mut r = VoiceReport::new(message_id, to);
                r.bulk_id = bulk_id;
                r.sent_at = sent_at;
                r.done_at = done_at;
                r.start_time = start_time;
                r.end_time = end_time;
                r.answer_time = answer_time;
                r.duration = duration;
                r.file_duration = file_duration;
                r.mcc_mnc = mcc_mnc;
                r.callback_data = callback_data;
                r.dtmf_codes = dtmf;
                r.recorded_audio_file_url = url;
                r.scenario_id = sid;
                r.scenario_name = sname;
                r.price = price;
                r.status = status;
                r.error = error;
                r.dtmf_codes_as_json = dtmf_json;
                r.transcribed_audio_file_url = transcribed;
                r
            },
        )
}

pub(crate) fn v1() -> impl Strategy<Value = VoiceReport> {
    v1_with(text().boxed())
}

fn ivr(text: BoxedStrategy<String>) -> impl Strategy<Value = Option<IvrData>> {
    let t = || of(text.clone());
    (t(), t(), t(), t(), t(), t()).prop_map(|(a, b, c, d, e, f)| {
        let mut i = IvrData::new();
        i.scenario_id = a;
        i.scenario_name = b;
        i.collected_dtmfs = c;
        i.collected_mapped_dtmfs = d;
        i.spoken_input = e;
        i.matched_spoken_input = f;
        // An empty object carries nothing and decodes as absent.
        (i != IvrData::new()).then_some(i)
    })
}

fn voice_call(text: BoxedStrategy<String>) -> impl Strategy<Value = Option<VoiceCall>> {
    let t = || of(text.clone());
    let ts = || of(timestamp());
    (
        (t(), ts(), ts(), ts(), of(any::<u32>()), of(any::<u32>())),
        (of(decimal()), t(), t(), t(), t(), ivr(text.clone().boxed())),
    )
        .prop_map(
            |(
                (feature, start, answer, end, duration, charged),
                (file_duration, direction, dtmf, answered_by, recording, ivr),
            )| {
                let mut c = VoiceCall::new();
                c.feature = feature;
                c.start_time = start;
                c.answer_time = answer;
                c.end_time = end;
                c.duration = duration;
                c.charged_duration = charged;
                c.file_duration = file_duration;
                c.direction = direction.map(|d| Direction::from_wire(&d));
                c.dtmf_codes = dtmf;
                c.answered_by = answered_by.map(|a| AnsweredBy::from_wire(&a));
                c.call_recording_file_id = recording;
                c.ivr = ivr;
                (c != VoiceCall::new()).then_some(c)
            },
        )
}

/// An arbitrary v2 report.
pub(crate) fn v2() -> impl Strategy<Value = CallReport> {
    v2_with(text().boxed())
}

/// An arbitrary v2 report, its strings drawn from `text`.
pub(crate) fn v2_with(text: BoxedStrategy<String>) -> impl Strategy<Value = CallReport> {
    let t = || of(text.clone());
    (
        (
            text.clone(),
            text.clone(),
            t(),
            t(),
            of(timestamp()),
            t(),
            t(),
        ),
        (
            of(price(text.clone())),
            of(status(text.clone())),
            of(report_error(text.clone())),
            voice_call(text.clone()),
        ),
    )
        .prop_map(
            |(
                (message_id, to, bulk_id, from, sent_at, mcc_mnc, callback_data),
                (price, status, error, voice_call),
            )| {
                let mut r = CallReport::new(message_id, to);
                r.bulk_id = bulk_id;
                r.from = from;
                r.sent_at = sent_at;
                r.mcc_mnc = mcc_mnc;
                r.callback_data = callback_data;
                r.price = price;
                r.status = status;
                r.error = error;
                r.voice_call = voice_call;
                r
            },
        )
}
