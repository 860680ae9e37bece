"""The Dockerfile's image, built and run: the bot answers Slack from inside it, in both modes.

Each container talks to local stand-ins for Slack (tests/slack) over the host's loopback, on free ports. The
image itself is checked too: non-root, no compiler, no pip, no wheelhouse left in it, and a HEALTHCHECK that
works. See containers.py for how the image is built on a machine that reaches no image registry.
"""
from __future__ import annotations

import json
import os
from typing import Iterator

import pytest
from containers import Container, base_image, build_image, engine, python_of, python_version, remove_image, \
    wait_for, why_no_engine
from pg_schema import fresh_schema, psycopg_conninfo, reachable_pg_url
from server_process import free_port
from slack_requests import SIGNING_SECRET, SlackSender, command_form, get, message
from socket_stub import SocketModeStub
from webapi_stub import APP_TOKEN, BOT_TOKEN, WebApiStub

pytestmark = pytest.mark.container


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    reason = why_no_engine()
    if reason:
        pytest.skip(reason)
    try:
        base = base_image()
    except LookupError as exc:
        pytest.skip(str(exc))
    if python_of(base) != python_version():
        pytest.skip(f"the base image has Python {python_of(base)} and the wheels are built by Python "
                    f"{python_version()}: run the tests with the base image's Python, or set NMBOT_TEST_BASE_IMAGE")
    tag = f"localhost/nmbot-test:{os.getpid()}"
    build_image(base, tag)
    yield tag
    remove_image(tag)


@pytest.fixture
def api() -> Iterator[WebApiStub]:
    stub = WebApiStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def run(image):
    """Starts a container of the image (removed afterwards, with its volumes)."""
    started: list[Container] = []

    def start(*args: str, env: dict[str, str], flags: tuple[str, ...] = ()) -> Container:
        started.append(Container(image, list(args), env, list(flags)).start())
        return started[-1]

    yield start
    for container in started:
        container.remove()


def slack_env(api: WebApiStub, **values: str) -> dict[str, str]:
    """What a team sets, plus loopback addresses: with the host's network a container binds the host's ports."""
    return {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": api.api_url, "NMBOT_HOST": "127.0.0.1",
            "NMBOT_METRICS_HOST": "127.0.0.1", "NMBOT_METRICS_PORT": str(free_port()), **values}


def healthy(url: str) -> dict | None:
    response = get(url + "/healthz")
    return response.json() if response.status == 200 else None


def metric(page: str, sample: str) -> float:
    for line in page.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_image_runs_as_a_user_without_build_tools(image):
    [inspected] = json.loads(engine("image", "inspect", image).stdout)
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["nmbot"] and config["Cmd"] == ["serve"]
    assert {"3000/tcp", "9000/tcp"} <= set(config["ExposedPorts"])
    check = inspected["Healthcheck"]  # podman keeps the Docker-format image's HEALTHCHECK beside its config
    assert check["Test"][0] == "CMD" and "/healthz" in " ".join(check["Test"])
    probe = ("id -u; for tool in gcc cc c++ make pip pip3; do command -v $tool; done; "
             "ls /wheelhouse 2>/dev/null; /opt/nmbot/bin/python -m pip --version 2>/dev/null; "
             "touch /opt/nmbot/x 2>/dev/null && echo writable; echo end")
    shell = engine("run", "--rm", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none",
                   "--entrypoint", "sh", image, "-c", probe)
    assert shell.stdout.split() == ["10001", "end"], shell.stdout  # no compiler, pip, wheelhouse; code read-only


def test_http_mode_answers_a_signed_command_on_a_read_only_root(run, api):
    """`serve --http` with the image's defaults (SQLite in its volume) and a read-only root file system."""
    port = free_port()
    env = slack_env(api, SLACK_SIGNING_SECRET=SIGNING_SECRET, NMBOT_PORT=str(port), NMBOT_LOG_LEVEL="info")
    bot = run("serve", "--http", env=env, flags=("--read-only", "--tmpfs", "/tmp"))
    probes = f"http://127.0.0.1:{env['NMBOT_METRICS_PORT']}"
    health = wait_for(lambda: healthy(probes), "/healthz on the probe port", bot)
    assert health["ok"] is True and health["store"] == "up"  # the SQLite file in /var/lib/nmbot takes writes
    assert get(probes + "/readyz").status == 200

    slack = SlackSender(f"http://127.0.0.1:{port}")
    ack = slack.command("-2004").json()
    assert ack["response_type"] == "ephemeral"
    assert ack["blocks"][0]["text"]["text"].startswith("-2004 \u00b7 No coverage")
    assert slack.post("command=%2Fnmerror&text=-2004", "application/x-www-form-urlencoded",
                      signature="v0=bad").status == 401
    assert slack.event(message("errorCode=-2010 on the prod trunk")).status == 200
    [post] = api.wait_for("chat.postMessage", timeout=20)  # the Web API reached from inside the container
    assert "trunk capacity" in post.blocks_text
    assert metric(get(probes + "/metrics").body, 'nmbot_requests_total{surface="command"}') == 1

    check = engine("healthcheck", "run", bot.name, check=False)
    assert check.returncode == 0, check.stdout + check.stderr  # the image's HEALTHCHECK, on this probe port

    bot.signal("HUP")  # the knowledge base reloads in place
    wait_for(lambda: metric(get(probes + "/metrics").body, 'nmbot_knowledge_reloads_total{result="reloaded"}'),
             "the knowledge base to reload after SIGHUP", bot)
    assert bot.running()

    assert bot.stop() == 0  # SIGTERM: drained and stopped cleanly
    log = bot.logs()
    assert "nmbot is serving Slack's requests" in log
    assert BOT_TOKEN not in log and SIGNING_SECRET not in log and "Traceback" not in log


@pytest.fixture
def database_url() -> Iterator[str]:
    url = reachable_pg_url()
    with fresh_schema(url) as (_, schema_url):
        yield schema_url


def test_socket_mode_on_postgresql(run, api, database_url):
    """The image's default command (Socket Mode) with its state in PostgreSQL, as replicas run it."""
    socket = SocketModeStub().start()
    api.socket_urls = socket.new_url
    try:
        env = slack_env(api, SLACK_APP_TOKEN=APP_TOKEN, NMBOT_DATABASE_URL=database_url)
        bot = run(env=env)
        probes = f"http://127.0.0.1:{env['NMBOT_METRICS_PORT']}"
        wait_for(lambda: get(probes + "/readyz").status == 200, "/readyz: connected to Slack", bot)
        assert healthy(probes)["store"] == "up"

        envelope = socket.send("slash_commands", command_form("-2008"))
        card = socket.wait_ack(envelope, timeout=20).payload
        assert "not whitelisted" in card["blocks"][0]["text"]["text"]
        assert metric(get(probes + "/metrics").body, "nmbot_socket_mode_connected") == 1
        assert bot.stop() == 0
        assert APP_TOKEN not in bot.logs() and BOT_TOKEN not in bot.logs()
    finally:
        socket.stop()
    assert tables_in(database_url)  # the schema was created in PostgreSQL, not in a file in the container


def tables_in(url: str) -> list[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    schema = make_url(url).query["options"].split("=", 1)[1]
    with psycopg.connect(psycopg_conninfo(url), connect_timeout=5) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                            (schema,)).fetchall()
    return [name for (name,) in rows]
