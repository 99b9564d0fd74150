"""`flask demo` ends with the issued badges' URLs and expected statuses, and the pages agree."""

from __future__ import annotations

import re
from typing import Any


def test_demo_prints_each_badge_url_with_its_status_last(app: Any, client: Any, session: Any) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    tail = first.output.strip().splitlines()
    lines = [
        line for line in tail if re.fullmatch(r"http://localhost/badges/[0-9a-f-]{36} (valid|revoked|expired)", line)
    ]
    assert lines == tail[-len(lines) :]  # they come last
    statuses = [line.split()[1] for line in lines]
    assert {"valid", "revoked", "expired"} <= set(statuses)
    for line in lines:
        url, status = line.split()
        html = client.get(url.removeprefix("http://localhost")).get_data(as_text=True)
        assert f'class="badge-status {status}"' in html
    second = runner.invoke(args=["demo"])
    assert [line for line in second.output.splitlines() if "/badges/" in line] == lines  # idempotent


def test_demo_has_an_agency_endorsement_and_a_transcript(app: Any, client: Any, session: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    endorsement = re.search(r"Endorsement by State Board of Educator Standards: http://localhost(\S+)", result.output)
    transcript = re.search(r"Transcript \(CLR 2.0\) of Erin Evans: http://localhost(\S+)", result.output)
    assert endorsement and transcript, result.output
    assert client.get(endorsement.group(1)).get_json()["type"][-1] == "EndorsementCredential"
    assert client.get(transcript.group(1)).get_json()["type"][-1] == "ClrCredential"
    again = runner.invoke(args=["demo"])  # idempotent: the same endorsement, the same transcript
    assert endorsement.group(0) in again.output and transcript.group(0) in again.output
