"""The log scanner: what counts as a code in a log, counting, streaming, bad input."""
from __future__ import annotations

import importlib.util
import io
import json
import os
import random
import sys
from pathlib import Path

import pytest

from nmbot.engine import scan_input
from nmbot.engine import scanner as scanner_module
from nmbot.engine.scan_input import MAX_LINE, PAIR_WINDOW, ScanInputError
from nmbot.engine.scanner import CHUNK_SIZE, Scanner

EVAL_LOGS = sorted((Path(__file__).parents[1] / "eval" / "data" / "logs").iterdir())

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
    if importlib.util.find_spec("hyperscan") is not None:  # the fast extra: the scan above ran on Hyperscan
        assert "hyperscan" in sys.modules
    monkeypatch.setitem(sys.modules, "hyperscan", None)
    plain = Scanner(kb).scan_text(text)
    assert plain == with_default
    assert {f.code for f in plain} == {-2004, -2010, -2042}


def test_team_codes_outside_the_number_masking_families_are_found(write_kb):
    from nmbot.engine.kb_files import load_files, shipped_paths

    merged = load_files([*shipped_paths(), write_kb()])
    found = Scanner(merged).scan_text("errorCode=-7001\nerrorCode=-7002\nfailed with -2004\n")
    assert [(f.code, f.known) for f in found] == [(-7001, True), (-2004, True)]


def test_both_prefilters_agree_on_every_evaluation_log(kb, monkeypatch):
    """Hyperscan's patterns are a narrower prefilter; they must never lose a finding."""
    logs = EVAL_LOGS
    extra = "\n".join([
        "x (-2004) y", "[-2010]", "`-2005`", "\t-2003 at line start", '"errorCode" : "-2042"', "<errorCode>-2008</errorCode>",
        "Error: -2009 at boot", "status = -9999", "offsetMs=-2004", "delta: -2005", "a-2004", "id 12-2004-34",
    ])
    texts = [p.read_bytes() for p in logs] + [extra.encode()]
    default = [Scanner(kb).scan_chunks(chunks_of(t, size)) for t in texts for size in (64, CHUNK_SIZE)]
    monkeypatch.setitem(sys.modules, "hyperscan", None)
    plain = [Scanner(kb).scan_chunks(chunks_of(t, size)) for t in texts for size in (64, CHUNK_SIZE)]
    assert plain == default


def test_scans_from_many_threads_at_once_find_what_one_thread_finds(kb):
    """Listener threads scan concurrently: each needs scratch space of its own (a shared one is refused
    by Hyperscan, or queues every thread behind one)."""
    from concurrent.futures import ThreadPoolExecutor

    scanner = Scanner(kb)
    texts = [p.read_text() for p in EVAL_LOGS]
    alone = [scanner.scan_text(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(scanner.scan_text, texts * 20))
    assert together == alone * 20


# --- the three ways in: a file (numbered by a second read), a pipe and chunks (numbered as read) ---


class Pipe:
    """A stream that can only be read, once, like standard input fed by a pipe."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def chunks_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def every_way(scanner, data: bytes, size: int, tmp_path: Path) -> list:
    """What each way into the scanner finds in `data` read `size` bytes at a time; asserts they agree."""
    path = tmp_path / "scanned.log"
    path.write_bytes(data)
    with open(path, "rb") as stream:
        from_file = scanner.scan_stream(stream, chunk_size=size)
        assert stream.tell() == len(data)
    from_bytes_io = scanner.scan_stream(io.BytesIO(data), chunk_size=size)
    from_pipe = scanner.scan_stream(Pipe(data), chunk_size=size)
    from_chunks = scanner.scan_chunks(chunks_of(data, size))
    assert from_file == from_bytes_io == from_pipe == from_chunks
    return from_file


def reference(scanner, data: bytes) -> list[tuple[int, int, int]]:
    """(code, count, first line), the slow obvious way: every line judged, lines numbered as split."""
    tallies: dict[int, dict] = {}
    for number, raw in enumerate(data.split(b"\n"), 1):
        line = raw.decode("utf-8", "replace").rstrip("\r")
        for code, kind, _ in scanner.judge_line(line):
            tally = tallies.setdefault(code, {"count": 0, "line": number, "code": None, "message": None})
            other = "message" if kind == "code" else "code"
            if tally[other] is not None and number - tally[other] <= PAIR_WINDOW:
                tally[other] = None
                continue
            tally["count"] += 1
            tally[kind] = number if scanner_module._FIELD_LINE.match(line) else None
    return sorted(((code, t["count"], t["line"]) for code, t in tallies.items()), key=lambda f: (f[2], f[0]))


@pytest.mark.parametrize("size", [7, 64, CHUNK_SIZE])
def test_every_way_in_agrees_on_every_evaluation_log(scanner, tmp_path, size):
    for log in EVAL_LOGS:
        data = log.read_bytes()
        found = every_way(scanner, data, size, tmp_path)
        assert found == scanner.scan_chunks([data]), log.name


def generated_log(seed: int) -> bytes:
    """Codes and messages, alone and in pairs a few lines apart, among short and long noise lines."""
    rng = random.Random(seed)
    message = "No coverage available for requested area"
    pretty = json.dumps(SUMMARY, indent=rng.choice([2, 4]))
    lines: list[str] = []
    for _ in range(rng.randint(5, 40)):
        lines += rng.choice([
            ["errorCode: -2004"], [f'  "errorMsg": "{message}",'], ["errorMsg: The trunk capacity has been exceeded"],
            ["errorCode=-2010"], [f"callback said: {message}"], pretty.splitlines(), ["level=error code=-2008"],
            ["noise"], [""], ["x" * rng.randint(100, 3000)], ["errorCode: '-2010'"], ["caf\xe9 errorCode=\u22122004"],
        ])
        lines += ["filler"] * rng.choice([0, 0, 1, PAIR_WINDOW - 1, PAIR_WINDOW, PAIR_WINDOW + 1, 40])
    newline = rng.choice(["\n", "\r\n"])
    return (newline.join(lines) + rng.choice(["", newline])).encode()


@pytest.mark.parametrize("seed", range(12))
def test_generated_logs_are_counted_and_numbered_exactly(scanner, tmp_path, seed):
    data = generated_log(seed)
    expected = reference(scanner, data)
    assert expected  # the generator always plants something
    for size in (7, 64, 4096):
        found = every_way(scanner, data, size, tmp_path)
        assert [(f.code, f.count, f.line) for f in found] == expected, size


@pytest.mark.parametrize("gap", range(PAIR_WINDOW + 3))
@pytest.mark.parametrize("filler", ["", "y" * 5000])
def test_a_code_and_its_message_field_pair_across_chunk_boundaries(scanner, tmp_path, gap, filler):
    text = f"noise\nerrorCode: -2004\n{(filler + chr(10)) * gap}errorMsg: No coverage available for requested area\n"
    for crlf in (False, True):
        data = (text.replace("\n", "\r\n") if crlf else text).encode()
        for size in (7, 64, 4096) if filler else (1, 7, 64, 4096):
            [found] = every_way(scanner, data, size, tmp_path)
            assert (found.count, found.line) == (1 if gap < PAIR_WINDOW else 2, 2)


def test_a_message_far_from_its_code_counts_again(scanner, tmp_path):
    data = ("errorCode: -2004\n" + "noise\n" * 5000 + "errorMsg: No coverage available for requested area\n").encode()
    for size in (64, 4096):
        [found] = every_way(scanner, data, size, tmp_path)
        assert (found.count, found.line) == (2, 1)


def test_pretty_summaries_split_across_chunks_count_once_each(scanner, tmp_path):
    pretty = json.dumps(SUMMARY, indent=2)
    data = ("\n".join([pretty, "noise", pretty, pretty]) + "\n").encode()
    message_line = next(n for n, line in enumerate(pretty.splitlines(), 1) if "errorMsg" in line)
    for size in (1, 7, 64, 100, 4096):
        [found] = every_way(scanner, data, size, tmp_path)
        assert (found.code, found.count, found.line) == (-2004, 3, message_line)


def test_lines_longer_than_max_line_keep_pairs_and_line_numbers(scanner, tmp_path):
    data = b"".join([
        b"errorCode: -2004\n",
        b"a" * (MAX_LINE * 2 + 10) + b" errorCode=-2008 \n",
        b"errorMsg: No coverage available for requested area\r\n",
        b"b" * (MAX_LINE + 3) + b"\n",
        b"errorCode=-2010",
    ])
    for size in (4096, 65536, CHUNK_SIZE, CHUNK_SIZE + 7):
        found = every_way(scanner, data, size, tmp_path)
        assert [(f.code, f.count, f.line) for f in found] == [(-2004, 1, 1), (-2008, 1, 2), (-2010, 1, 5)]


@pytest.mark.parametrize("seed", range(6))
def test_every_way_in_agrees_when_long_lines_are_judged_in_pieces(scanner, tmp_path, monkeypatch, seed):
    monkeypatch.setattr(scan_input, "MAX_LINE", 97)  # most lines of the generated logs are cut in pieces
    data = generated_log(seed)
    for size in (7, 64, 4096):
        every_way(scanner, data, size, tmp_path)


def test_a_file_is_numbered_from_where_it_stands(scanner, tmp_path):
    path = tmp_path / "scanned.log"
    path.write_bytes(b"errorCode=-2010\nskipped\nnoise\nerrorCode=-2004\n")
    with open(path, "rb") as stream:
        stream.readline()
        stream.readline()
        [found] = scanner.scan_stream(stream, chunk_size=4)
        assert (found.code, found.line, stream.tell()) == (-2004, 2, path.stat().st_size)


def test_a_file_is_read_again_only_up_to_the_last_first_occurrence(scanner):
    data = b"noise\nerrorCode=-2004\n" + b"noise\n" * 10_000 + b"errorCode=-2004\n"

    class CountingReads(io.BytesIO):
        read_bytes = 0

        def read(self, size=-1):
            chunk = super().read(size)
            self.read_bytes += len(chunk)
            return chunk

    stream = CountingReads(data)
    [found] = scanner.scan_stream(stream, chunk_size=1024)
    assert (found.count, found.line) == (2, 2)
    assert stream.read_bytes == len(data) + len(b"noise\n")


def test_a_real_pipe_is_numbered_as_it_is_read(scanner):
    read_end, write_end = os.pipe()
    os.write(write_end, b"noise\r\nnoise\r\nerrorCode=-2004\r\n")
    os.close(write_end)
    with open(read_end, "rb") as stream:
        assert not stream.seekable()
        [found] = scanner.scan_stream(stream, chunk_size=5)
    assert (found.code, found.line) == (-2004, 3)


@pytest.mark.parametrize("log", EVAL_LOGS, ids=lambda p: p.name)
def test_following_a_log_gives_every_occurrence_the_scan_counts(scanner, log):
    """`scan --follow`: one finding per occurrence as its line arrives, in pieces of any size; in all,
    what the scan counts, each code's first occurrence on the line the scan names."""
    data = log.read_bytes()
    step = random.Random(log.name).randint(1, 97)
    occurrences = list(scanner.follow(data[i:i + step] for i in range(0, len(data), step)))
    whole = scanner.scan_text(data.decode("utf-8", "replace"))
    last = {o.code: o for o in occurrences}
    assert {c: o.count for c, o in last.items()} == {f.code: f.count for f in whole}
    first = {o.code: o.line for o in reversed(occurrences)}
    assert first == {f.code: f.line for f in whole}
    assert [o.line for o in occurrences] == sorted(o.line for o in occurrences)


def test_following_gives_a_line_as_soon_as_it_is_complete(scanner):
    arrived = []

    def chunks():
        for piece in (b"errorCode=-20", b"04 callerId=6591234567\nquiet", b"\nerrorCode=-2010\n"):
            arrived.append(piece)
            yield piece

    found = scanner.follow(chunks())
    first = next(found)
    assert (first.code, first.line, len(arrived)) == (-2004, 1, 2)  # before the third piece was read
    assert "6591234567" not in first.evidence
    assert [(f.code, f.line) for f in found] == [(-2010, 3)]
