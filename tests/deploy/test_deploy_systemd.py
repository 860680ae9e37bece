"""deploy/nmbot.service: systemd accepts it, it says what docs/deploy.md promises, and its commands run the bot.

No systemd runs here, so the last test does what systemd would with the unit's own lines: the environment
(Environment=, then the example env file over it), ExecStart with $NMBOT_SERVE_ARGS split into words, under
NoNewPrivileges and MemoryDenyWriteExecute (set with prctl, as systemd does), ExecReload with $MAINPID, then
KillSignal within TimeoutStopSec.
"""
from __future__ import annotations

import ctypes
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import Lines
from server_process import clean_env, free_port, wait_until_healthy
from slack_requests import SIGNING_SECRET, SlackSender
from webapi_stub import BOT_TOKEN, WebApiStub

from nmbot.cli.main import EXIT_ERROR, build_parser
from nmbot.settings import Settings
from nmbot.slack.socket_mode import EXIT_GAVE_UP

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "nmbot.service"
ENV_EXAMPLE = REPO / "deploy" / "nmbot.env.example"
INSTALLED_NMBOT = "/opt/nmbot/bin/nmbot"  # where the unit's header installs it
PR_SET_NO_NEW_PRIVS, PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 38, 65, 1
# Looked up here, not between fork and exec, where loading a library could deadlock.
PRCTL = ctypes.CDLL(None, use_errno=True).prctl


def unit_lines(text: str) -> dict[str, list[tuple[str, str]]]:
    """Each section's (key, value) pairs in order; keys may repeat, as systemd allows."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        else:
            key, _, value = line.partition("=")
            current.append((key.strip(), value.strip()))
    return sections


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in unit_lines(UNIT.read_text())["Service"]:
        values.setdefault(key, []).append(value)
    return values


def one(service: dict[str, list[str]], key: str) -> str:
    [value] = service[key]
    return value


def test_systemd_accepts_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the other tests here check the unit's keys")
    # verify also checks that ExecStart is executable: point it at this environment's nmbot.
    nmbot = Path(sys.executable).with_name("nmbot")
    unit = tmp_path / "nmbot.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED_NMBOT, str(nmbot)))
    proc = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # unknown keys and bad values are warnings


def test_the_unit_restarts_reloads_and_is_hardened(service):
    assert one(service, "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert one(service, "Restart") == "on-failure"
    assert str(EXIT_GAVE_UP) not in one(service, "RestartPreventExitStatus")  # Socket Mode's give-up restarts
    assert one(service, "RestartPreventExitStatus").split() == [str(EXIT_ERROR)]  # a setting to fix does not
    assert one(service, "KillSignal") == "SIGTERM"
    assert int(one(service, "TimeoutStopSec")) > Settings().graceful_seconds  # the drain ends before systemd's SIGKILL
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "DynamicUser": "yes", "MemoryDenyWriteExecute": "yes"}.items():
        assert one(service, key) == value, key
    assert one(service, "CapabilityBoundingSet") == ""
    assert one(service, "EnvironmentFile") == "/etc/nmbot/nmbot.env"


def test_state_lives_in_the_state_directory(service):
    """ProtectSystem=strict leaves only StateDirectory and CacheDirectory writable: the files go there."""
    env = dict(item.split("=", 1) for item in shlex.split(one(service, "Environment")))
    state = "/var/lib/" + one(service, "StateDirectory")
    assert env["NMBOT_DATABASE_URL"] == f"sqlite:///{state}/nmbot.sqlite3"
    assert env["NMBOT_CACHE_DIR"] == "/var/cache/" + one(service, "CacheDirectory")
    assert one(service, "WorkingDirectory") == state


def test_exec_start_parses_in_both_modes(service):
    words = shlex.split(one(service, "ExecStart"))
    assert words[0] == INSTALLED_NMBOT and words[-1] == "$NMBOT_SERVE_ARGS"
    socket_mode = build_parser().parse_args(words[1:-1])
    http = build_parser().parse_args(words[1:-1] + example_serve_args())
    assert socket_mode.command == http.command == "serve"
    assert not socket_mode.http and http.http


def example_serve_args() -> list[str]:
    """The HTTP mode flags the example env file suggests (commented out there: Socket Mode is its default)."""
    [line] = [text for text in ENV_EXAMPLE.read_text().splitlines() if re.match(r"#?NMBOT_SERVE_ARGS=", text)]
    return line.split("=", 1)[1].split()


def lock_down() -> None:
    """What NoNewPrivileges= and MemoryDenyWriteExecute= do to the service's process (in the child, before exec).
    A kernel without PR_SET_MDWE (before Linux 6.3) gets the first only; systemd uses seccomp there."""
    if PRCTL(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    PRCTL(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0)


def test_the_units_commands_run_the_bot(service, tmp_path):
    """ExecStart in HTTP mode, ExecReload, then KillSignal, with the unit's environment and a state directory."""
    stub = WebApiStub().start()
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()
    unit_env = dict(item.split("=", 1) for item in shlex.split(one(service, "Environment")))
    directories = {"/var/lib/nmbot": str(state), "/var/cache/nmbot": str(tmp_path / "cache")}
    for key, value in unit_env.items():
        for made_by_systemd, here in directories.items():
            unit_env[key] = unit_env[key].replace(made_by_systemd, here)
    env_file = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": stub.api_url,
                "NMBOT_SERVE_ARGS": f"--http --host 127.0.0.1 --port {port}"}
    env = clean_env(**{**unit_env, **env_file})  # the env file's values win, as with systemd
    words = shlex.split(one(service, "ExecStart"))
    command = [str(Path(sys.executable).with_name("nmbot")), *words[1:-1], *env["NMBOT_SERVE_ARGS"].split()]
    proc = subprocess.Popen(command, env=env, cwd=state, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lock_down)
    log = Lines(proc.stdout)
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_healthy(url, timeout=30)["store"] == "up"
        assert (state / "nmbot.sqlite3").exists()  # NMBOT_DATABASE_URL from Environment=, in the state directory
        ack = SlackSender(url).command("-2004").json()
        assert ack["blocks"][0]["text"]["text"].startswith("-2004 \u00b7 No coverage")

        reload = shlex.split(one(service, "ExecReload").replace("$MAINPID", str(proc.pid)))
        assert subprocess.run(reload, timeout=10).returncode == 0
        log.wait_for(r"knowledge base reloaded")
        assert proc.poll() is None

        proc.send_signal(getattr(signal, one(service, "KillSignal")))
        assert proc.wait(timeout=int(one(service, "TimeoutStopSec"))) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        stub.stop()
    text = log.text
    assert all("level" in json.loads(line) for line in log.output)  # NMBOT_LOG_FORMAT=json from Environment=
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text and "Traceback" not in text

