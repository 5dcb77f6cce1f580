"""Conformance of the sandbox with a client we did not write: Infobip's official Python SDK.

Usage: python conformance.py BASE_URL API_KEY
Run by the Rust test `python_sdk_conformance` (crates/sandbox/tests/it/python.rs) with the
interpreter of the virtualenv that .ci/run builds (infobip-api-python-client==6.0.0).
Exits non-zero, with the failed check on stderr, when anything differs.
"""

import json
import re
import sys
from datetime import datetime, timedelta, timezone

from infobip_api_client.api.voice_api import VoiceApi
from infobip_api_client.api_client import ApiClient
from infobip_api_client.configuration import Configuration
from infobip_api_client.models.calls_advanced_body import CallsAdvancedBody
from infobip_api_client.models.calls_advanced_message import CallsAdvancedMessage
from infobip_api_client.models.calls_destination import CallsDestination
from infobip_api_client.models.calls_ivr_message import CallsIvrMessage
from infobip_api_client.models.calls_launch_scenario_request import CallsLaunchScenarioRequest

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")


def check(condition, what):
    if not condition:
        print(f"conformance check failed: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    base_url, api_key = sys.argv[1], sys.argv[2]
    api = VoiceApi(ApiClient(Configuration(host=base_url, api_key=api_key)))

    # Two TTS calls through /tts/3/advanced: a human who pressed 1, and a busy line.
    sent = api.send_advanced_voice_tts(
        CallsAdvancedBody(
            bulk_id="py-bulk-tts",
            messages=[
                CallsAdvancedMessage(
                    var_from="41790000100",
                    destinations=[
                        CallsDestination(to="41790000001", message_id="py-tts-1"),
                        CallsDestination(to="41790000004", message_id="py-tts-4"),
                    ],
                    text="Hello from the conformance test",
                    language="en",
                    callback_data="cb-python",
                )
            ],
        )
    )
    check(sent.bulk_id == "py-bulk-tts", f"send bulkId: {sent.bulk_id}")
    check([m.message_id for m in sent.messages] == ["py-tts-1", "py-tts-4"], "send messageIds")
    check(all(m.status.id == 26 and m.status.group_id == 1 for m in sent.messages), "PENDING_ACCEPTED")

    got = api.get_voice_delivery_reports(bulk_id="py-bulk-tts", limit=10)
    by_id = {r.message_id: r for r in got.results}
    check(sorted(by_id) == ["py-tts-1", "py-tts-4"], f"report ids: {sorted(by_id)}")

    human = by_id["py-tts-1"]
    check(human.bulk_id == "py-bulk-tts" and human.to == "41790000001", "human ids")
    check(human.var_from == "41790000100", f"from: {human.var_from}")
    check(human.callback_data == "cb-python", "callbackData echoed")
    check(DATE.match(human.sent_at or ""), f"sentAt format: {human.sent_at}")
    check((human.status.id, human.status.group_id, human.status.name) == (5, 3, "DELIVERED_TO_HANDSET"), "human status")
    check((human.error.id, human.error.group_id, human.error.name) == (10000, 0, "NORMAL_HANGUP"), "human error")
    check(abs(human.price.price_per_second - 0.03) < 1e-12 and human.price.currency == "CHF", "price")
    call = human.voice_call
    check(call is not None and isinstance(call.duration, int) and call.duration >= 5, "duration")
    check(call.dtmf_codes == "1" and call.answered_by == "HUMAN", "dtmf and answeredBy")
    check(DATE.match(call.start_time) and DATE.match(call.answer_time) and DATE.match(call.end_time), "call times")
    check(call.start_time <= call.answer_time <= call.end_time, "call times ordered")
    check(isinstance(call.file_duration, (int, float)), f"fileDuration is a number: {call.file_duration!r}")

    busy = by_id["py-tts-4"]
    check((busy.status.id, busy.error.id, busy.error.name) == (97, 10201, "BUSY"), "busy status and error")
    check(busy.voice_call.duration == 0 and busy.voice_call.answer_time is None, "busy call not answered")

    again = api.get_voice_delivery_reports(bulk_id="py-bulk-tts", limit=10)
    check(again.results == [], "reports are handed out once")

    # The logs still list both calls, as often as asked, with the SDK's own query encoding
    # (repeated bulkId, a sentSince datetime).
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    for _ in range(2):
        logs = api.get_sent_voice_logs(bulk_id=["py-bulk-tts", "nope"], sent_since=since, limit=10)
        by_id = {entry.message_id: entry for entry in logs.results}
        check(sorted(by_id) == ["py-tts-1", "py-tts-4"], f"log ids: {sorted(by_id)}")
    logged = by_id["py-tts-1"]
    check(logged.var_from == "41790000100" and logged.to == "41790000001", "log numbers")
    check(logged.text == "Hello from the conformance test", f"log text: {logged.text}")
    check(logged.status.group_name == "DELIVERED" and logged.status.id == 5, "log status")
    check(logged.sent_at is not None and logged.done_at is not None, "log times")
    check(logged.duration >= 5 and logged.mcc_mnc == "22801", "log duration and mccMnc")
    check(abs(logged.price.price_per_second - 0.03) < 1e-12, "log price")
    one = api.get_sent_voice_logs(message_id=["py-tts-4"], to="41790000004")
    check([e.message_id for e in one.results] == ["py-tts-4"], "log by messageId and to")
    none = api.get_sent_voice_logs(bulk_id=["py-bulk-tts"], sent_until=since)
    check(none.results == [], "nothing sent before sentUntil")

    # An IVR call through /voice/ivr/1/messages, with a generated messageId.
    sent = api.send_voice_messages_with_an_ivr_scenario(
        CallsLaunchScenarioRequest(
            bulk_id="py-bulk-ivr",
            messages=[
                CallsIvrMessage(
                    scenario_id="scenario-7",
                    var_from="41790000100",
                    destinations=[CallsDestination(to="385981112")],
                )
            ],
        )
    )
    ivr_id = sent.messages[0].message_id
    check(isinstance(ivr_id, str) and ivr_id, "generated messageId")
    got = api.get_voice_delivery_reports(message_id=ivr_id)
    check(len(got.results) == 1, f"one IVR report, got {len(got.results)}")
    ivr = got.results[0]
    check(ivr.voice_call.ivr.scenario_id == "scenario-7", "scenarioId")
    check(ivr.voice_call.dtmf_codes == "2" and ivr.price.currency == "EUR", "IVR dtmf and price")

    # The deprecated v1 endpoint, through the SDK's generic call_api.
    api.send_advanced_voice_tts(
        CallsAdvancedBody(
            bulk_id="py-bulk-v1",
            messages=[
                CallsAdvancedMessage(
                    destinations=[CallsDestination(to="41790000005", message_id="py-v1-5")],
                    text="Hello",
                )
            ],
        )
    )
    client = api.api_client
    params = client.param_serialize(
        method="GET",
        resource_path="/tts/3/reports",
        query_params=[("bulkId", "py-bulk-v1"), ("limit", 5)],
        header_params={"Accept": "application/json"},
        auth_settings=["APIKeyHeader"],
    )
    response = client.call_api(*params)
    response.read()
    check(response.status == 200, f"/tts/3/reports status {response.status}")
    page = json.loads(response.data)
    check(len(page["results"]) == 1, "one v1 report")
    v1 = page["results"][0]
    check(v1["messageId"] == "py-v1-5" and v1["status"]["id"] == 15, "v1 no-answer status")
    check(v1["error"]["name"] == "EC_VOICE_NO_ANSWER" and v1["duration"] == 0, "v1 error and duration")
    check(v1["mccMnc"] == "0" and "answerTime" not in v1, "v1 unanswered shape")
    check(isinstance(v1["price"]["pricePerSecond"], float), "v1 price is a JSON number")

    # Wrong credentials: 401 with the Infobip error body, surfaced by the SDK as an exception.
    bad = VoiceApi(ApiClient(Configuration(host=base_url, api_key="wrong")))
    try:
        bad.get_voice_delivery_reports(limit=1)
        check(False, "401 expected")
    except Exception as error:  # the SDK raises UnauthorizedException
        check(getattr(error, "status", None) == 401, f"401 status: {error!r}")
        body = json.loads(error.body)
        check(body["requestError"]["serviceException"]["messageId"] == "UNAUTHORIZED", "401 body")

    print("python SDK conformance: all checks passed")


if __name__ == "__main__":
    main()
