"""The `nmbot` command line: what each command prints and its exit status, run by `main` in this process
(tests/cli/conftest.py); test_cli_unix.py runs the real process where that is the point."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nmbot.cli.main import protect_free_text

LOGS = Path(__file__).resolve().parents[1] / "eval" / "data" / "logs"


@pytest.fixture
def run(nmbot):
    """`nmbot ARGS` as a user runs it, without Slack's settings or NMBOT_KNOWLEDGE unless `env` gives them."""
    def run_command(*args: str, stdin: bytes | str | None = None, env: dict | None = None):
        unset = dict.fromkeys(("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "NMBOT_KNOWLEDGE"))
        proc = nmbot(*args, stdin=stdin, env={**unset, "NO_COLOR": "", **(env or {})})
        assert "Traceback" not in proc.err, proc.err
        return proc

    return run_command


@pytest.mark.parametrize("code", ["-2004", "2004", "\u22122004", "-2O04"])
def test_ask_accepts_codes_as_typed(run, code):
    proc = run("ask", code, "--json")
    assert proc.returncode == 0
    body = json.loads(proc.out)
    note = body.pop("note", None)
    card = body["answer"].pop("card")
    assert body == {
        "query": code,
        "answer": {"code": -2004, "message": "No coverage available for requested area", "score": 100.0},
        "suggestions": [],
    }
    # Asked alone without its sign it is still Number Masking's, with a word on whose a positive 2004 is.
    assert (note is not None) == (code == "2004")
    assert note is None or ("-2004" in note and "SMS" in note and "Number Lookup" in note)
    assert card["code"] == -2004 and card["message"] == "No coverage available for requested area"


def test_ask_json_for_no_answer_and_suggestions(run):
    off = json.loads(run("ask", "--json", "lunch?").out)
    assert off == {"query": "lunch?", "answer": None, "suggestions": []}
    unknown = run("ask", "-2042", "--json")
    assert unknown.returncode == 1
    body = json.loads(unknown.out)
    assert body["answer"] is None and body["suggestions"][0]["code"] == -2002
    assert all(set(s) == {"code", "message", "score"} and isinstance(s["score"], float) for s in body["suggestions"])


def test_ask_text_prints_the_card_like_slack(run):
    proc = run("ask", "trunk", "capacty", "exceded")
    assert proc.returncode == 0
    for part in ("-2010 \u00b7 The trunk capacity has been exceeded", "What to do", "1. ", "Who can fix it",
                 "Before escalating, collect", "Docs: https://", "Why this answer", "nmbot knowledge base"):
        assert part in proc.out
    assert "\033[" not in proc.out  # piped: no colour


EC_PAGE = "https://developer.8x8.com/connect/docs/voice/error-codes/number-masking-error-codes"


def test_ask_json_carries_whose_word_each_part_of_the_card_is(run):
    card = json.loads(run("ask", "--json", "no coverage available for requested area").out)["answer"]["card"]
    assert card["message_only"] is False
    for part in ("meaning", "causes", "steps"):
        assert card[part] and all(set(i) == {"text", "source", "page"} for i in card[part])
        assert all((i["source"] == "8x8") == bool(i["page"]) for i in card[part])
    assert {i["source"] for i in card["steps"]} == {"8x8", "ours"}
    assert {"text": "Verify that both the caller's and the callee's regions are within your account's Number "
                    "Masking coverage.", "source": "8x8", "page": EC_PAGE} in card["steps"]
    # One object per line on standard input too.
    lines = run("ask", "--json", stdin="-2006\nlunch?\n").out.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["answer"]["card"]["message_only"] is True and second["answer"] is None
    assert all(c["source"] == "ours" for c in first["answer"]["card"]["causes"])


def test_lookup_json_is_the_card_with_its_sources(run):
    proc = run("lookup", "-2007", "--json")
    assert proc.returncode == 0
    card = json.loads(proc.out)
    assert card["code"] == -2007 and card["docs"].startswith("https://developer.8x8.com/")
    assert [i["source"] for i in card["meaning"]] == ["8x8", "8x8"]
    assert {i["source"] for i in card["steps"]} == {"8x8", "ours"}


def test_lookup_shows_whose_word_each_part_is(run):
    out = run("lookup", "-2004").out
    assert "  8x8 docs: The error typically occurs when a call is routed" in out
    assert "  Our notes:\n  \u2022 The destination number" in out
    flat = " ".join(out.split())  # wrapped to the terminal width
    assert "What to do 8x8 docs: 1. Verify that both the caller's and the callee's regions are within your " \
           "account's Number Masking coverage. [1]" in flat
    assert f"8x8 pages cited\n  [1] {EC_PAGE}\n  [2] https://developer.8x8.com/" in out
    assert "Who can fix it\n" in out and "only its message" not in out
    message_only = run("lookup", "-2009").out
    assert "8x8 documents no cause and no fix for this code, only its message." in message_only
    assert "Who can fix it (our notes)\n" in message_only
    assert "  Our notes: 8x8 does not define scenario parameters." in message_only


def test_ask_reads_questions_from_stdin_one_answer_per_line(run):
    proc = run("ask", stdin="-2004\nthanks!\n\ncaller id not whitelsited\n")
    assert proc.out.splitlines() == [
        "-2004\tNo coverage available for requested area",
        "-\tno answer",
        "-\tno answer",
        "-2008\tThe provided source MSISDN or caller ID is not whitelisted",
    ]
    as_json = [json.loads(line) for line in run("ask", "--json", stdin="-2010\nlunch?\n").out.splitlines()]
    assert [a["answer"] and a["answer"]["code"] for a in as_json] == [-2010, None]


def test_ask_stdin_bad_bytes_warn_and_binary_fails(run):
    proc = run("ask", stdin=b"-2004 caf\xe9\n")
    assert proc.returncode == 0 and proc.out.startswith("-2004\t")
    assert "not valid UTF-8" in proc.err
    binary = run("ask", stdin=b"\x00\x01\x02")
    assert binary.returncode == 2 and "looks binary" in binary.err


def test_lookup_prints_the_card_and_handles_unknown_and_junk(run):
    proc = run("lookup", "-2008")
    assert proc.returncode == 0 and "-2008 \u00b7 The provided source MSISDN" in proc.out
    unknown = run("lookup", "-2042")
    assert unknown.returncode == 1 and "-2042 is not in the knowledge base; did you mean -2002" in unknown.err
    junk = run("lookup", "banana")
    assert junk.returncode == 2 and "'banana' is not an error code" in junk.err


def test_scan_json_and_exit_codes(run, tmp_path):
    proc = run("scan", str(LOGS / "mixed-all-codes.log"), "--json")
    assert proc.returncode == 0
    findings = json.loads(proc.out)["findings"]
    assert {f["code"] for f in findings} >= {-2001, -2004, -2010, -9999}
    assert all(set(f) == {"code", "known", "count", "line", "evidence"} for f in findings)
    quiet = tmp_path / "quiet.log"
    quiet.write_text("2004-06-01 all good\n")
    none = run("scan", str(quiet), "--json")
    assert none.returncode == 1 and json.loads(none.out) == {"findings": []}


def test_scan_reads_stdin_and_masks_phone_numbers(run):
    proc = run("scan", "-", stdin='{"errorCode": -2004, "source": "+6591234567"}\n')
    assert proc.returncode == 0 and "-2004" in proc.out and "+6591234567" not in proc.out


def test_scan_of_crafted_lines_finishes_quickly(run):
    """Lines that once made the field pattern backtrack for 3 to 20 seconds each."""
    crafted = ["errorCode: -2004" + " " * 2000 + "x", "\"errorCode\": -2004," + " \t" * 1000 + "x",
               "errorCode=-2004" + " " * 40_000 + "x"]
    started = time.monotonic()
    proc = run("scan", "-", "--json", stdin="\n".join(crafted) + "\n")
    assert time.monotonic() - started < 5  # the scan itself takes milliseconds
    assert proc.returncode == 0
    assert [(f["code"], f["count"]) for f in json.loads(proc.out)["findings"]] == [(-2004, 3)]


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b"\x7fELF\x00\x00binary"), "looks binary"),
    ],
)
def test_scan_bad_input_exits_2_with_a_clear_message(run, tmp_path, setup, message):
    target = tmp_path / "input.log"
    setup(target)
    proc = run("scan", str(target))
    assert proc.returncode == 2 and message in proc.err


def test_scan_invalid_utf8_warns_and_still_scans(run, tmp_path):
    target = tmp_path / "latin1.log"
    target.write_bytes(b"r\xe9sum\xe9 errorCode=-2010\n")
    proc = run("scan", str(target), "--json")
    assert proc.returncode == 0 and "not valid UTF-8" in proc.err
    assert json.loads(proc.out)["findings"][0]["code"] == -2010


def test_kb_check_passes_on_the_shipped_kb(run):
    proc = run("kb", "check")
    assert proc.returncode == 0 and proc.out.startswith("ok: 11 entries")


def test_kb_check_reports_every_problem(run, write_kb):
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha failure", "title": "Alpha", "phrases": "alpha widget broken"},
        {"code": -7001, "message": "Beta failure", "title": "Beta", "phrases": "alpha widget broke"},
    ])
    path.write_text(path.read_text().replace("related: []", "related: [-7999]", 1))
    proc = run("kb", "check", str(path))
    assert proc.returncode == 1
    assert "code -7001 is defined twice" in proc.out
    assert "names -7999, which has no entry" in proc.out


def test_kb_check_refuses_an_item_without_a_source(run, write_kb):
    path = write_kb()
    path.write_text(path.read_text().replace("causes: [{text: A cause., source: ours}]", "causes: [A cause.]"))
    proc = run("kb", "check", str(path))
    assert proc.returncode == 1
    assert (f"problem: {path}: entry -7001, field 'causes': item 1 \u201cA cause.\u201d has no source: write "
            "`source: ours` for our own notes, or `source:` and the link of the 8x8 page that says it") in proc.out
    assert proc.out.endswith("1 problem(s) found.\n")


def test_kb_check_with_a_broken_file_names_it(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nentries: [\n")
    proc = run("kb", "check", str(bad))
    assert proc.returncode == 1 and f"{bad}: is not valid YAML at line" in proc.out


def test_bad_knowledge_env_is_a_clear_error(run, tmp_path):
    proc = run("ask", "-2004", env={"NMBOT_KNOWLEDGE": str(tmp_path / "missing.yaml")})
    assert proc.returncode == 2 and "missing.yaml: no such file" in proc.err


def test_team_codes_are_answered_beside_ours(run, write_kb):
    team = write_kb()
    proc = run("ask", "-7001", "--json", env={"NMBOT_KNOWLEDGE": f"shipped{os.pathsep}{team}"})
    assert json.loads(proc.out)["answer"]["code"] == -7001
    assert json.loads(run("ask", "-2004", "--json", env={"NMBOT_KNOWLEDGE": f"shipped{os.pathsep}{team}"}).out)["answer"]


def test_offline_console_without_tokens_answers_lines(run):
    proc = run(stdin="-2004\nerrorCode=-2042\n")
    assert proc.returncode == 0
    assert "offline console" in proc.err and "No SLACK_BOT_TOKEN" in proc.err
    assert "-2004 \u00b7 No coverage" in proc.out and "-2042" in proc.out


@pytest.mark.parametrize("argv, code", [(["ask", "-2004"], 0), (["lookup", "-99999"], 2)])
def test_ask_path_imports_no_slack_or_database_libraries(argv, code):
    # A failing command too: telling its one-line error from a bug must not load the store.
    program = (
        "import sys, io, contextlib\n"
        "from nmbot.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): "
        f"code = main({argv!r})\n"
        "heavy = [m for m in ('slack_bolt', 'slack_sdk', 'sqlalchemy', 'hyperscan', 'psycopg') if m in sys.modules]\n"
        "print(code, ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == str(code), out.stdout + out.stderr


def test_negative_codes_are_never_read_as_options():
    assert protect_free_text(["ask", "-2004", "--json"]) == ["ask", "--json", "--", "-2004"]
    assert protect_free_text(["lookup", "-2O04"]) == ["lookup", "--", "-2O04"]
    assert protect_free_text(["scan", "-"]) == ["scan", "-"]


# --- whose a number is: product-aware answers -------------------------------------------------

def test_ask_says_another_products_code_is_not_number_masking_and_names_it(run):
    proc = run("ask", "SMS", "status", "2003")
    assert proc.returncode == 1  # no Number Masking answer
    assert proc.out.startswith("Not a Number Masking error code.")
    assert "2003: most likely from SMS (8x8's Messaging API)" in proc.out
    assert "Docs: https://developer.8x8.com/connect/docs/api-error-codes" in proc.out
    assert "-2003 \u00b7" not in proc.out  # no card


def test_ask_json_lists_other_products_and_keeps_the_usual_keys(run):
    body = json.loads(run("ask", "--json", "statusCode -1015 The validity period of the call flow request has "
                                           "expired").out)
    assert body["answer"] is None and body["suggestions"] == []
    [other] = body["other_products"]
    assert other == {"number": -1015, "product": "the Voice API (the Callflows API's statusCode)",
                     "meaning": "validity period expired", "lookalike": -2007,
                     "docs": "https://developer.8x8.com/connect/docs/voice/error-codes/voice-status-codes"}
    assert "Voice API status code" in body["reason"]


def test_ask_stdin_marks_other_products_and_doubt_one_line_each(run):
    proc = run("ask", stdin="Viber 2010\nwhat does 2003 mean\n2003\nmeeting in room 2004\n")
    assert proc.out.splitlines() == [
        "x\tnot Number Masking: 2010 Viber",
        "?\tdid you mean -2003",
        "-2003\tThe call flow provided is invalid",
        "-\tno answer",
    ]


def test_ask_in_doubt_offers_the_code_and_says_why(run):
    proc = run("ask", "what does 2003 mean")
    assert proc.returncode == 1
    assert "-2003  The call flow provided is invalid" in proc.out and "no minus sign" in proc.out


def test_lookup_of_a_sign_less_code_says_whose_a_positive_one_is(run):
    proc = run("lookup", "2004")
    assert proc.returncode == 0 and "-2004 \u00b7 No coverage" in proc.out
    assert "a positive 2004 from SMS, chat apps or Number Lookup" in " ".join(proc.out.split())
    assert "a positive 2004 from SMS" not in run("lookup", "-2004").out


def test_offline_console_says_whose_a_number_is(run):
    proc = run(stdin="Number Lookup 2004\n")
    assert proc.returncode == 0 and "most likely from Number Lookup" in proc.out
