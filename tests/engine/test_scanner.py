"""The log scanner: what counts as a code in a log, counting, streaming, bad input."""
from __future__ import annotations

import io
import json
import sys

import pytest

from bot.engine import scanner as scanner_module
from bot.engine.scanner import MAX_LINE, Scanner, ScanInputError

SUMMARY = {
    "namespace": "VOICE",
    "eventType": "SESSION_SUMMARY",
    "payload": {
        "sessionId": "f24adf06-04ba-4658-9851-7dbf8bcbb78d",
        "sessionStatus": "ERROR",
        "errorDetails": {"errorMsg": "No coverage available for requested area", "errorCode": -2004},
        "details": {"callA": {"source": "+6591234567", "destination": "+6598765432", "callStatus": "ERROR"}},
    },
}


@pytest.fixture(scope="module")
def scanner(kb):
    return Scanner(kb)


def codes(scanner, text):
    return {f.code: f.count for f in scanner.scan_text(text)}


def test_compact_and_pretty_session_summaries_count_once(scanner):
    assert codes(scanner, json.dumps(SUMMARY)) == {-2004: 1}
    assert codes(scanner, json.dumps(SUMMARY, indent=2)) == {-2004: 1}
    as_string = json.loads(json.dumps(SUMMARY))
    as_string["payload"]["errorDetails"]["errorCode"] = "-2004"
    assert codes(scanner, json.dumps(as_string, indent=4)) == {-2004: 1}


def test_one_summary_per_line_counts_each(scanner):
    text = "\n".join(json.dumps(SUMMARY) for _ in range(3))
    assert codes(scanner, text) == {-2004: 3}


@pytest.mark.parametrize(
    "line, code",
    [
        ("level=error sessionId=abc errorCode=-2010 msg=\"boom\"", -2010),
        ("error_code: -2008", -2008),
        ("<errorCode>-2003</errorCode>", -2003),
        ("NumberMaskingError: session failed with -2006", -2006),
        ("com.acme.NmException: errorCode -2007 (The validity period of the call flow request has expired)", -2007),
        ("```{\"errorCode\":\"-2005\"}```", -2005),
        ("callback said: The trunk capacity has been exceeded", -2010),
        ("ended: -2009 The scenario parameters provided is invalid", -2009),
        ("errorCode=\u22122004", -2004),
    ],
)
def test_recognised_shapes(scanner, line, code):
    assert codes(scanner, line) == {code: 1}


@pytest.mark.parametrize(
    "line",
    [
        "2004-06-01 12:00:00 INFO started",
        "years 2008-2010 were busy",
        "call from +1-202-555-2004 connected",
        "caller 6520042008 answered",
        "trace 123e4567-e89b-2004-a456-426614174000",
        '10.0.0.1 - - "GET /x HTTP/1.1" 200 2004',
        "job took 2004ms",
        "job took -2004ms",
        "listening on :2004",
        'File "app.py", line 2004, in handler',
        "level=error offsetMs=-2004",
        '"balance": -2001.50',
        "latitude=-2003 longitude=103.8",
        "delta: -2005",
        '{"code": 2004, "message": "Invalid MSISDN"}',
        "Number Lookup returned 2004 provider timeout",
        '"statusCode": -1014, "statusMessage": "Source or caller ID is not allowed"',
        "sipCode: 486",
        "balance went to -2004 today",
    ],
)
def test_decoys_are_ignored(scanner, line):
    assert scanner.scan_text(line) == []


def test_unknown_code_in_an_error_field_is_reported_as_unknown(scanner):
    [finding] = scanner.scan_text("status=ERROR errorCode=-2042 sessionId=x")
    assert (finding.code, finding.known, finding.count, finding.entry) == (-2042, False, 1, None)


def test_unknown_code_in_free_text_is_not_reported(scanner):
    assert scanner.scan_text("the error was -2042 apparently") == []


def test_finding_fields_and_order(scanner):
    text = "noise\nerrorCode=-2010\nnoise\nerrorCode=-2004\nerrorCode=-2010\n"
    findings = scanner.scan_text(text)
    assert [(f.code, f.count, f.line) for f in findings] == [(-2010, 2, 2), (-2004, 1, 4)]
    assert findings[0].known and findings[0].entry.code == -2010
    assert findings[0].as_dict() == {"code": -2010, "known": True, "count": 2, "line": 2, "evidence": "errorCode=-2010"}


def test_evidence_masks_phone_numbers_and_is_trimmed(scanner):
    [finding] = scanner.scan_text(json.dumps(SUMMARY))
    assert "+6591234567" not in finding.evidence and "67" in finding.evidence
    long_line = "x=" + "a" * 5000 + " errorCode=-2004 " + "b" * 5000
    [finding] = scanner.scan_text(long_line)
    assert "errorCode=-2004" in finding.evidence and len(finding.evidence) <= scanner_module.EVIDENCE_CHARS + 2


def test_message_and_code_in_separate_records_count_twice(scanner):
    text = (
        'level=error errorCode="-9999" errorMsg="An unknown error has occurred"\n'
        "level=info msg=ok\n"
        'level=error msg="session error: An unknown error has occurred"\n'
    )
    assert codes(scanner, text) == {-9999: 2}


def test_stream_in_small_chunks_matches_text(scanner):
    text = "\n".join([json.dumps(SUMMARY, indent=2), "errorCode=-2010", "x" * 3000, "errorCode=-2010"] * 5)
    expected = scanner.scan_text(text)
    for size in (1, 7, 64, 4096):
        assert scanner.scan_stream(io.BytesIO(text.encode()), chunk_size=size) == expected


def test_line_numbers_are_right_across_chunks(scanner):
    text = "".join(f"line {i}\n" for i in range(1, 5000)) + "errorCode=-2008\n"
    [finding] = scanner.scan_stream(io.BytesIO(text.encode()), chunk_size=1000)
    assert finding.line == 5000


def test_binary_input_is_refused_clearly(scanner):
    with pytest.raises(ScanInputError, match="looks binary"):
        scanner.scan_stream(io.BytesIO(b"errorCode=-2004\n\x00\x01\x02"))


def test_invalid_utf8_is_scanned_anyway(scanner):
    data = b"caf\xe9 errorCode=-2004 \xff\xfe\n"
    [finding] = scanner.scan_stream(io.BytesIO(data))
    assert finding.code == -2004 and "\ufffd" in finding.evidence


def test_one_huge_line_is_scanned_in_pieces(scanner):
    data = b"a" * (MAX_LINE * 2 + 10) + b" errorCode=-2004"
    [finding] = scanner.scan_stream(io.BytesIO(data))
    assert finding.code == -2004


def test_pathological_input_is_linear(scanner):
    """Inputs that make backtracking regexes explode: each must finish quickly."""
    import time

    for text in ("-" * 200_000, "err=" * 50_000, "errorCode=-" * 30_000, " " * 200_000 + "x"):
        started = time.perf_counter()
        scanner.scan_text(text)
        assert time.perf_counter() - started < 5


def test_plain_prefilter_finds_what_hyperscan_finds(kb, monkeypatch):
    """The pure-Python prefilter must give the same findings as Hyperscan."""
    text = "\n".join(
        [json.dumps(SUMMARY, indent=2), "errorCode=\u22122004", "THE TRUNK CAPACITY HAS BEEN EXCEEDED", "errorCode=-2042",
         "offsetMs=-2004", "x" * 100]
    )
    with_default = Scanner(kb).scan_text(text)
    monkeypatch.setitem(sys.modules, "hyperscan", None)
    plain = Scanner(kb).scan_text(text)
    assert plain == with_default
    assert {f.code for f in plain} == {-2004, -2010, -2042}


def test_team_codes_outside_the_number_masking_families_are_found(write_kb):
    from bot.engine.knowledge import load_files, shipped_paths

    merged = load_files([*shipped_paths(), write_kb()])
    found = Scanner(merged).scan_text("errorCode=-7001\nerrorCode=-7002\nfailed with -2004\n")
    assert [(f.code, f.known) for f in found] == [(-7001, True), (-2004, True)]
