"""Drains the sandbox's v2 reports with Infobip's official Python SDK, into memory.

Usage: python sdk_drain.py BASE_URL API_KEY
The baseline of `cargo xtask bench collect` (xtask/src/bench_collect.rs): pages of 1000
reports from GET /voice/1/reports until one comes back empty, every report kept in a list.
Prints one line: `drained N reports in S seconds` (the time of the drain alone, after the
SDK's import and set-up).
"""

import sys
import time

from infobip_api_client.api.voice_api import VoiceApi
from infobip_api_client.api_client import ApiClient
from infobip_api_client.configuration import Configuration


def main():
    base_url, api_key = sys.argv[1], sys.argv[2]
    api = VoiceApi(ApiClient(Configuration(host=base_url, api_key=api_key)))
    kept = []
    started = time.perf_counter()
    # Bounded: at most 10,000 pages, whatever the sandbox holds.
    for _ in range(10_000):
        page = api.get_voice_delivery_reports(limit=1000)
        if not page.results:
            break
        kept.extend(page.results)
    elapsed = time.perf_counter() - started
    print(f"drained {len(kept)} reports in {elapsed:.6f} seconds")


if __name__ == "__main__":
    main()
