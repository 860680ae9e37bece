"""`nmbot` behaves as the command-line tools people already use do: pipes that close early, files, globs and
gzip, following a growing log, terminals (prompts, history, progress, hints), colour switches, completion,
exit statuses in --help. What only a real process shows (pipes, signals, terminals, memory) runs the real
process; what a command prints for files, globs, variables and options, and its status, is run by `main` in
this process."""
from __future__ import annotations

import gzip
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nmbot.cli.main import build_parser
from pty_terminal import Terminal

NMBOT = [sys.executable, "-m", "nmbot"]
LOGS = Path(__file__).resolve().parents[1] / "eval" / "data" / "logs"
SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "NMBOT_KNOWLEDGE", "NO_COLOR",
                   "FORCE_COLOR")
ESC = "\033["


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARIABLES}
    return {**env, "TERM": "xterm", **extra}


@pytest.fixture
def run(nmbot):
    """`nmbot ARGS` run by its `main` in this process (tests/cli/conftest.py), with `clean_env`'s variables:
    for what a command prints and its status, where no process behaviour is the point."""
    def run_command(*args: str, stdin: bytes | str | None = None, cwd=None, **env: str):
        proc = nmbot(*args, stdin=stdin, cwd=cwd, env={**dict.fromkeys(SLACK_VARIABLES), "TERM": "xterm", **env})
        assert "Traceback" not in proc.err, proc.err
        return proc

    return run_command


def read_line_within(stream, seconds: float) -> bytes:
    """One line from a pipe, failing if none has come within `seconds`."""
    deadline = time.monotonic() + seconds
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        assert left > 0, f"no whole line within {seconds}s (got {line!r})"
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            byte = os.read(stream.fileno(), 1)
            assert byte, f"the output ended (got {line!r})"
            line += byte
    return line


# --- a reader that goes away -------------------------------------------------------------------

@pytest.mark.parametrize("args", [["lookup", "-2004"], ["completion", "bash"], ["--version"],
                                  ["scan", str(LOGS / "mixed-all-codes.log")]])
def test_closed_output_ends_quietly_with_grep_status(args):
    """Nobody reads the output at all: no traceback, no "Exception ignored", status 141 as grep's under SIGPIPE."""
    proc = subprocess.Popen([*NMBOT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    proc.stdout.close()  # before nmbot writes a byte: its first write finds no reader
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


def test_head_of_an_endless_ask_pipeline_exits_quietly(tmp_path):
    """`yes -- -2004 | nmbot ask | head -1`, in a real shell."""
    status = tmp_path / "status"
    script = f'yes -- -2004 | "$0" -m nmbot ask 2>"$1" | head -1; echo "${{PIPESTATUS[@]}}" > "$2"'
    out = subprocess.run(["bash", "-c", script, sys.executable, str(tmp_path / "err"), str(status)],
                         capture_output=True, text=True, timeout=60, env=clean_env())
    assert out.stdout == "-2004\tNo coverage available for requested area\n"
    assert (tmp_path / "err").read_text() == ""
    assert status.read_text().split()[1] == "141"


# --- scan: several files, globs, gzip ----------------------------------------------------------

@pytest.fixture
def logs(tmp_path):
    shutil.copy(LOGS / "kv-trunk-capacity.log", tmp_path / "a.log")
    (tmp_path / "quiet.log").write_text("all fine\n")
    with gzip.open(tmp_path / "b.log.gz", "wb") as f:
        f.write((LOGS / "vss-ndjson.log").read_bytes())
    return tmp_path


def test_scan_reads_several_files_and_names_each(run, logs):
    proc = run("scan", "a.log", "quiet.log", "b.log.gz", cwd=logs)
    assert proc.returncode == 0
    assert "==> a.log <==\n-2010 \u00b7 The trunk capacity" in proc.out
    assert "==> b.log.gz <==\n-2004 \u00b7 No coverage" in proc.out
    assert "quiet.log" not in proc.out  # like grep: a file without codes says nothing
    assert proc.out.count("nmbot knowledge base") == 1
    findings = json.loads(run("scan", "--json", "a.log", "quiet.log", "b.log.gz", cwd=logs).out)["findings"]
    assert {(f["file"], f["code"]) for f in findings} == {("a.log", -2010), ("b.log.gz", -2004), ("b.log.gz", -2007)}


def test_scan_expands_a_quoted_glob_and_reads_gzip_by_its_content(run, logs):
    proc = run("scan", "--json", "*.gz", cwd=logs)
    assert proc.returncode == 0
    findings = json.loads(proc.out)["findings"]
    assert {f["code"] for f in findings} == {-2004, -2007} and "file" not in findings[0]  # one input
    assert findings[0]["line"] == 2  # numbered in the decompressed text
    both = json.loads(run("scan", "--json", "*.log*", cwd=logs).out)["findings"]
    assert {f["file"] for f in both} == {"a.log", "b.log.gz"}
    piped = run("scan", "--json", stdin=(logs / "b.log.gz").read_bytes())
    assert {f["code"] for f in json.loads(piped.out)["findings"]} == {-2004, -2007}


def test_a_quoted_glob_skips_a_fifo_and_a_device_with_a_note_and_scans_the_rest(logs):
    os.mkfifo(logs / "pipe.log")  # nobody writes to it: opening it would wait forever
    (logs / "zero.log").symlink_to("/dev/zero")  # never ends
    proc = subprocess.run([*NMBOT, "scan", "--json", "*.log"], capture_output=True, timeout=20, env=clean_env(),
                          cwd=logs)
    err = proc.stderr.decode()
    assert "nmbot: pipe.log: not a regular file, skipped" in err and "nmbot: zero.log: not a regular file" in err
    assert {f["file"] for f in json.loads(proc.stdout)["findings"]} == {"a.log"}


def test_a_gzip_that_expands_to_hundreds_of_megabytes_is_scanned_in_bounded_memory(tmp_path):
    line = b"2026-11-30 12:00:00 INFO session ok, nothing wrong here\n"
    with gzip.open(tmp_path / "big.log.gz", "wb", compresslevel=1) as f:
        block = line * ((4 << 20) // len(line))
        for _ in range(64):  # about 256 MiB once expanded
            f.write(block)
        f.write(b"errorCode=-2004\n")
    probe = ("import resource, subprocess, sys; "
             "p = subprocess.run(sys.argv[1:], capture_output=True); "
             "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *NMBOT, "scan", "--json", str(tmp_path / "big.log.gz")],
                         capture_output=True, timeout=300, env=clean_env()).stdout.decode().split()
    assert out[0] == "0"  # the code at the very end was found
    assert int(out[1]) < 150 * 1024  # KiB: a streamed read, not the 256 MiB file held whole


def test_scan_reports_a_missing_file_scans_the_rest_and_exits_2(run, logs):
    (logs / "broken.gz").write_bytes(gzip.compress(b"errorCode=-2004\n")[:12])
    proc = run("scan", "missing.log", "nothing-*.log", "broken.gz", "a.log", cwd=logs)
    assert proc.returncode == 2  # as grep: an error wins over findings
    assert "nmbot: missing.log: no such file" in proc.err
    assert "nmbot: nothing-*.log: no file matches" in proc.err
    assert "nmbot: broken.gz: is not a readable .gz file" in proc.err
    assert "-2010 \u00b7 The trunk capacity" in proc.out


# --- scan --follow -----------------------------------------------------------------------------

def test_follow_prints_each_finding_before_the_input_ends():
    proc = subprocess.Popen([*NMBOT, "scan", "--follow"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env())
    try:
        proc.stdin.write(b"started\nerrorCode=-2004 callerId=6591234567\n")
        proc.stdin.flush()
        first = read_line_within(proc.stdout, 30).decode()
        assert first.startswith("line 2: -2004 \u00b7 No coverage available for requested area")
        assert "callerId=\u2022\u2022\u2022\u2022\u2022\u2022\u202267" in first
        # A pretty-printed summary's code and message are one occurrence, given once.
        proc.stdin.write(b'  "errorCode": -2010,\n  "errorMsg": "The trunk capacity has been exceeded"\n')
        proc.stdin.flush()
        assert read_line_within(proc.stdout, 30).decode().startswith("line 3: -2010 \u00b7 The trunk capacity")
        proc.stdin.write(b"errorCode=-2004\n")
        proc.stdin.close()
        rest = proc.stdout.read().decode()
        assert rest.startswith("line 5: -2004") and rest.count("\n") == 1
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_follow_json_gives_one_object_per_occurrence(run):
    proc = run("scan", "--follow", "--json", stdin="errorCode=-2004\nnothing\nerrorCode=-2004\n")
    assert [json.loads(line) for line in proc.out.splitlines()] == [
        {"code": -2004, "known": True, "count": 1, "line": 1, "evidence": "errorCode=-2004"},
        {"code": -2004, "known": True, "count": 2, "line": 3, "evidence": "errorCode=-2004"},
    ]
    assert run("scan", "--follow", stdin="nothing here\n").returncode == 1


def test_follow_reads_a_growing_file(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("errorCode=-2001\n")
    proc = subprocess.Popen([*NMBOT, "scan", "-f", str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env())
    try:
        assert read_line_within(proc.stdout, 30).startswith(b"line 1: -2001")
        with log.open("a") as f:
            f.write("quiet\nerrorCode=-2010\n")
        assert read_line_within(proc.stdout, 30).startswith(b"line 3: -2010")
        log.write_text("errorCode=-2003\n")  # rotated: truncated and written again
        assert read_line_within(proc.stdout, 30).startswith(b"line 1: -2003")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert b"truncated or replaced" in proc.stderr.read()


def test_follow_takes_one_plain_input(run, logs):
    proc = run("scan", "--follow", "a.log", "quiet.log", cwd=logs)
    assert proc.returncode == 2 and "--follow reads one file or standard input" in proc.err
    packed = run("scan", "--follow", "b.log.gz", cwd=logs)
    assert packed.returncode == 2 and "b.log.gz: is gzip data" in packed.err


# --- terminals ---------------------------------------------------------------------------------

def test_scan_on_a_terminal_without_input_says_what_it_expects():
    with Terminal([*NMBOT, "scan"], clean_env(NO_COLOR="1")) as term:
        term.expect("paste it, then press Ctrl-D")
        term.send("errorCode=-2004\n\x04")
        term.expect("-2004 \u00b7 No coverage")
        assert term.wait() == 0


def test_large_file_shows_progress_on_a_terminal_only(run, tmp_path):
    big = tmp_path / "big.log"
    line = b"2024-10-21T00:03:12Z info all fine " + b"x" * 988 + b"\n"
    with big.open("wb") as f:
        for _ in range(101):
            f.write(line * 1024)  # 101 MiB: over the 100 MB threshold
        f.write(b"errorCode=-2004\n")
    try:
        with Terminal([*NMBOT, "scan", str(big)], clean_env(), stdin=False, stdout=False) as term:
            assert term.wait(60) == 0
            assert f"nmbot: scanning {big}: " in term.text and "% of 106 MB" in term.text
            assert term.raw.endswith(b"\r\033[K")  # rubbed out, the terminal left clean
            assert "-2004" in term.proc.stdout.read().decode()
        piped = run("scan", str(big))
        assert piped.returncode == 0 and piped.err == ""
    finally:
        big.unlink()  # pytest keeps the last runs' folders: not this file


def test_console_on_a_terminal_has_a_prompt_line_editing_and_masked_history(tmp_path):
    env = clean_env(XDG_STATE_HOME=str(tmp_path), NO_COLOR="1")
    with Terminal(NMBOT, env) as term:
        term.expect("nmbot> ")
        term.send("callerId=6591234567 errorCode=-2010\r")
        term.expect("-2010 \u00b7 The trunk capacity")
        term.expect("nmbot> ", times=2)
        term.send("-2005\x7f4\r")  # a typo, rubbed out with backspace
        term.expect("-2004 \u00b7 No coverage")
        term.expect("nmbot> ", times=3)
        term.send("\x04")
        assert term.wait() == 0
    history = (tmp_path / "nmbot" / "history").read_text()
    assert "-2004" in history and "-2005" not in history
    assert "6591234567" not in history and "callerId=\u2022\u2022\u2022\u2022\u2022\u2022\u202267" in history
    assert (tmp_path / "nmbot" / "history").stat().st_mode & 0o077 == 0
    with Terminal([*NMBOT, "console"], env) as term:
        term.expect("nmbot> ")
        term.send("\x1b[A\r")  # the up arrow recalls the last session's line
        term.expect("-2004 \u00b7 No coverage")
        term.expect("nmbot> ", times=2)
        term.send("\x04")
        assert term.wait() == 0


def test_console_piped_shows_no_prompt(run):
    proc = run("console", stdin="-2004\n")
    assert proc.returncode == 0 and "-2004 \u00b7 No coverage" in proc.out
    assert "nmbot>" not in proc.out + proc.err


# --- colour ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, env, coloured", [
    (["--color", "always"], {}, True),
    (["--color=always"], {"NO_COLOR": "1"}, True),  # the flag wins over the variable
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {}, False),  # piped
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
    ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
])
def test_color_flag_and_variables_when_piped(run, args, env, coloured):
    for argv in (["ask", "-2004", *args], [*args, "lookup", "-2004"]):  # before or after the command
        proc = run(*argv, **env)
        assert proc.returncode == 0 and "-2004" in proc.out
        assert (ESC in proc.out) == coloured, argv


@pytest.mark.parametrize("env, coloured", [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False)])
def test_color_on_a_terminal(env, coloured):
    with Terminal([*NMBOT, "lookup", "-2004"], clean_env(**env), stdin=False) as term:
        assert term.wait() == 0
        assert (ESC + "1;31m-2004" in term.raw.decode()) == coloured


# --- version, help, exit statuses ------------------------------------------------------------

def test_version_names_the_knowledge_base_too(run, write_kb):
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.out.splitlines()[0].startswith("nmbot ")
    assert proc.out.splitlines()[1].startswith("knowledge base: number-masking ") and "(11 codes)" in proc.out
    team = write_kb(version="7")
    both = run("--version", NMBOT_KNOWLEDGE=f"shipped{os.pathsep}{team}")
    assert "+ team 7 (12 codes)" in both.out


def every_parser(parser, path=()):
    yield path, parser
    for name, sub in parser.subcommands.items():
        yield from every_parser(sub, (*path, name))


def test_every_help_lists_the_exit_statuses(run):
    paths = []
    for path, parser in every_parser(build_parser()):
        text = parser.format_help()
        assert "exit status:" in text and "\n  2 " in text and "141" in text, path
        paths.append(path)
    assert ("kb", "check") in paths and ("completion",) in paths
    proc = run("scan", "--help")
    assert "exit status:\n  0    codes found\n  1    none found\n  2    error" in proc.out


def test_bare_nmbot_with_only_a_bot_token_names_the_missing_one(run):
    proc = run(SLACK_BOT_TOKEN="xoxb-secret-value")
    assert proc.returncode == 2
    assert "SLACK_APP_TOKEN is not" in proc.err and "nmbot serve --http" in proc.err
    assert "SLACK_SIGNING_SECRET" in proc.err and "xoxb-secret-value" not in proc.err
    assert proc.err.count("\n") == 1


# --- shell completion --------------------------------------------------------------------------

def bash_completes(script: str, *words: str, cwd=None) -> list[str]:
    """What bash offers for the last of `words` with nmbot's completion loaded."""
    code = ('source /dev/stdin; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _nmbot; '
            'printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "-c", code, "bash", "nmbot", *words], input=script, capture_output=True,
                         text=True, timeout=30, cwd=cwd)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return out.stdout.split()


def test_bash_completion_parses_and_completes_commands(run, tmp_path):
    script = run("completion", "bash").out
    syntax = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, timeout=30)
    assert syntax.returncode == 0, syntax.stderr
    assert bash_completes(script, "") == ["ask", "lookup", "scan", "kb", "serve", "manifest", "report", "console",
                                          "completion"]
    assert bash_completes(script, "sc") == ["scan"]
    assert bash_completes(script, "kb", "") == ["check"]
    assert bash_completes(script, "scan", "--f") == ["--follow"]
    assert bash_completes(script, "report", "--format", "") == ["text", "md", "csv", "json", "html"]
    assert bash_completes(script, "--color", "n") == ["never"]
    assert bash_completes(script, "completion", "") == ["bash", "zsh", "fish"]
    (tmp_path / "app.log").write_text("")
    assert bash_completes(script, "scan", "ap", cwd=tmp_path) == ["app.log"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_parses_and_offers_commands(run):
    script = run("completion", "zsh").out
    assert subprocess.run(["zsh", "-n"], input=script, text=True, timeout=30).returncode == 0
    # Stand-ins for zsh's completion functions print what they were given.
    code = ('compdef() { :; }; _describe() { print -l -- "${(@P)4}"; }; compadd() { print -l -- "${@:2}"; }; '
            '_files() { print FILES; }; source /dev/stdin; words=(nmbot "$@"); CURRENT=$#words; _nmbot')
    def offers(*words):
        return subprocess.run(["zsh", "-c", code, "zsh", *words], input=script, capture_output=True, text=True,
                              timeout=30).stdout.split("\n")
    assert "scan:find error codes in logs (exit 0 found, 1 none, 2 error)" in offers("")
    assert offers("kb", "")[0].startswith("check:")
    assert offers("report", "--format", "")[:5] == ["text", "md", "csv", "json", "html"]
    assert offers("scan", "")[0] == "FILES"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completion_offers_commands_and_options(run):
    script = run("completion", "fish").out
    def offers(line):
        out = subprocess.run(["fish", "-c", f"source; complete -C {json.dumps(line)}"], input=script,
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return [row.split("\t")[0] for row in out.stdout.splitlines()]
    assert {"ask", "lookup", "scan", "kb", "serve", "manifest", "report", "console", "completion"} <= set(offers("nmbot "))
    assert offers("nmbot kb ") == ["check"]
    assert "--follow" in offers("nmbot scan --")
    assert offers("nmbot completion ") == ["bash", "fish", "zsh"]


# --- kb check: the same sources as NMBOT_KNOWLEDGE, every problem at once -----------------------

def test_kb_check_takes_the_word_shipped_beside_files(run, write_kb):
    team = write_kb()
    proc = run("kb", "check", "shipped", str(team))
    assert proc.returncode == 0, proc.out
    assert proc.out.startswith("ok: 12 entries, knowledge base number-masking ") and "+ team 1" in proc.out
    joined = run("kb", "check", f"shipped{os.pathsep}{team}")
    assert joined.out == proc.out


def test_kb_check_lists_every_problem_of_every_entry(run, write_kb):
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha failure", "title": "Alpha", "phrases": "alpha widget broken"},
        {"code": -7002, "message": "Beta failure", "title": "Beta", "phrases": "beta gadget stuck"},
    ])
    text = path.read_text()
    first, second = text.split("  - code: -7002")
    first = first.replace("    title: Alpha\n", "").replace("    owner: customer\n", "    owner: nobody\n")
    first = first.replace("docs: https://example.com/docs", "docs: example.com")
    second = second.replace("    category: platform\n", "").replace("steps: [{text: Check one thing., source: ours}, ",
                                                                     "steps: [{text: Check one thing., source: wiki}, 7, ")
    path.write_text(first + "  - code: -7002" + second)
    proc = run("kb", "check", str(path))
    assert proc.returncode == 1
    problems = [line for line in proc.out.splitlines() if line.startswith("problem: ")]
    expected = [
        f"{path}: entry -7001 (#1), field 'owner': must be one of customer, 8x8, both, got 'nobody'",
        f"{path}: entry -7001 (#1), field 'docs': must be an http(s) link, got 'example.com'",
        f"{path}: entry -7001 (#1), field 'title': missing (a text is required)",
        f"{path}: entry -7002 (#2), field 'steps': item 1 has source 'wiki'",
        f"{path}: entry -7002 (#2), field 'steps': item 2 must be text, or `text:` with `source:`, got 7",
        f"{path}: entry -7002 (#2), field 'category': missing (a text is required)",
    ]
    for want, got in zip(expected, problems):
        assert got.startswith("problem: " + want), (want, got)
    assert len(problems) == len(expected), problems
    assert proc.out.endswith(f"{len(expected)} problem(s) found.\n")
