"""The HTTP runtime: Bolt's WSGI handler under gunicorn, what the thin wrapper adds, and the probe port.

End to end through `nmbot serve --http` where the server is the point (chunked bodies as gunicorn
delivers them, two workers sharing their figures and the probe port); the body rules themselves on
plain WSGI environs, which is fast.
"""
from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from urllib.parse import urlencode

import pytest
from helpers import poll_until
from metrics_page import metrics_of
from server_process import ServerProcess, bot_env
from slack_requests import CHANNEL, USER, SlackSender, get, message, post_unsigned, raw_request, send
from webapi_stub import Fault

from nmbot.slack.web import MAX_BODY_BYTES, Refused, read_body

# --- the body rules ------------------------------------------------------------------------------


def environ(body: bytes, **values) -> dict:
    return {"wsgi.input": io.BytesIO(body), **values}


def test_a_declared_length_is_read_exactly():
    assert read_body(environ(b"command=x&rest", CONTENT_LENGTH="9"), 10) == b"command=x"


@pytest.mark.parametrize("length", ["ten", "-1", "1e3", "\u0663"], ids=["word", "negative", "float", "arabic-digit"])
def test_a_length_that_is_not_a_number_is_a_400(length):
    with pytest.raises(Refused) as refused:
        read_body(environ(b"x", CONTENT_LENGTH=length), 10)
    assert (refused.value.status, refused.value.reason) == (400, "bad_length")


def test_a_declared_length_over_the_limit_is_refused_unread():
    stream = environ(b"x" * 10, CONTENT_LENGTH=str(MAX_BODY_BYTES + 1))
    with pytest.raises(Refused) as refused:
        read_body(stream, 10)
    assert (refused.value.status, refused.value.reason) == (413, "too_large")
    assert stream["wsgi.input"].tell() == 0


def test_a_body_whose_end_the_server_knows_is_read_to_its_end_within_the_limit():
    # gunicorn de-chunks a chunked body: no Content-Length, and wsgi.input_terminated.
    assert read_body(environ(b"a" * 5000, **{"wsgi.input_terminated": True}), 10) == b"a" * 5000
    with pytest.raises(Refused) as refused:
        read_body(environ(b"a" * (MAX_BODY_BYTES + 1), **{"wsgi.input_terminated": True}), 10)
    assert (refused.value.status, refused.value.reason) == (413, "too_large")


class Trickle(io.RawIOBase):
    """A body arriving a few bytes at a time, each read taking `pause` seconds."""

    def __init__(self, body: bytes, pause: float):
        self.body, self.pause = body, pause

    def read(self, size: int = -1) -> bytes:
        time.sleep(self.pause)
        part, self.body = self.body[:3], self.body[3:]
        return part


def test_a_body_that_does_not_arrive_in_time_is_a_408():
    started = time.monotonic()
    with pytest.raises(Refused) as refused:
        read_body({"wsgi.input": Trickle(b"command=x" * 10, 0.05), "CONTENT_LENGTH": "90"}, 0.3)
    assert (refused.value.status, refused.value.reason) == (408, "slow_body")
    assert time.monotonic() - started < 1.0
    assert read_body({"wsgi.input": Trickle(b"command=x", 0.01), "CONTENT_LENGTH": "9"}, 5) == b"command=x"


def test_a_body_with_no_length_and_no_known_end_is_a_411():
    with pytest.raises(Refused) as refused:
        read_body(environ(b"command=x"), 10)
    assert (refused.value.status, refused.value.reason) == (411, "no_length")


def test_a_chunked_body_to_a_server_that_does_not_de_chunk_is_a_411(bot):
    head = ("POST /slack/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    assert raw_request(bot.url, head, b"2\r\n{}\r\n0\r\n\r\n").endswith("411 Length Required")
    assert bot.wsgi.deps.metrics.refused.value(reason="no_length") == 1


def test_bytes_that_are_not_utf8_are_a_400_counted_as_malformed(bot):
    assert post_unsigned(bot.url, b"payload=\xff\xfe", "application/x-www-form-urlencoded").endswith(
        "400 Bad Request")
    assert bot.wsgi.deps.metrics.refused.value(reason="malformed") == 1


# --- the real server ---------------------------------------------------------------------------


def chunked_command(url: str, text: str) -> tuple[str, str]:
    """A signed /nmerror whose body is sent in two chunks; (status line, response body)."""
    body = urlencode({"command": "/nmerror", "text": text, "channel_id": CHANNEL, "user_id": USER,
                      "trigger_id": "1.2.3"}).encode()
    timestamp = str(int(time.time()))
    signature = SlackSender(url).verifier.generate_signature(timestamp=timestamp, body=body.decode())
    head = ("POST /slack/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Transfer-Encoding: chunked\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
            f"X-Slack-Signature: {signature}\r\nConnection: close\r\n\r\n")
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:40], body[40:])) + b"0\r\n\r\n"
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head.encode() + chunks)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    status, _, rest = answer.decode().partition("\r\n")
    return status, rest.partition("\r\n\r\n")[2]


def test_the_slack_port_serves_slack_and_healthz_and_the_probe_port_the_rest(stub, tmp_path):
    server = ServerProcess(bot_env(stub), tmp_path)
    try:
        url = server.start()
        status, body = chunked_command(url, "-2004")
        assert status == "HTTP/1.1 200 OK" and "No coverage available" in body
        assert post_unsigned(url, b"\xff\xfe\x00", "application/json").endswith("400 Bad Request")

        slack_health, probe_health = get(url + "/healthz"), get(server.probe_url + "/healthz")
        assert slack_health.status == probe_health.status == 200
        assert slack_health.json() == probe_health.json() and probe_health.json()["store"] == "up"
        ready = get(server.probe_url + "/readyz")
        assert ready.status == 200 and ready.json()["knowledge_base"] == probe_health.json()["knowledge_base"]
        for path in ("/readyz", "/metrics"):  # never on the public port
            assert get(url + path).status == 404

        page = get(server.probe_url + "/metrics")
        assert page.status == 200 and page.content_type.startswith("text/plain; version=")
        m = metrics_of(page.body)
        assert m['nmbot_requests_total{surface="command"}'] == 1
        assert m['nmbot_refused_requests_total{reason="malformed"}'] == 1
        assert m["process_resident_memory_bytes"] > 0  # one worker: the process's own figures too
        assert get(server.probe_url + "/elsewhere").status == 404
        assert send(request(server.probe_url + "/metrics", "POST")).status == 405
        head = send(request(server.probe_url + "/healthz", "HEAD"))
        assert head.status == 200 and head.body == ""
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.text


def request(url: str, method: str) -> urllib.request.Request:
    return urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)


def worker_pids(server: ServerProcess) -> list[int]:
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", server.text)]


def test_two_workers_each_answer_and_every_scrape_adds_up_both(stub, tmp_path):
    server = ServerProcess(bot_env(stub, NMBOT_WEB_WORKERS="2", NMBOT_DATABASE_URL="memory://"), tmp_path)
    try:
        slack = SlackSender(server.start())
        poll_until(lambda: server.text.count("nmbot is serving Slack's requests") == 2, "both workers")
        first, second = worker_pids(server)
        for paused in (first, second):
            os.kill(paused, signal.SIGSTOP)  # the other worker takes every request meanwhile
            try:
                for _ in range(3):
                    assert slack.command("-2004").status == 200
            finally:
                os.kill(paused, signal.SIGCONT)
        for _ in range(8):  # the kernel hands each scrape to either worker
            m = metrics_of(get(server.probe_url + "/metrics").body)
            assert m['nmbot_requests_total{surface="command"}'] == 6
            assert m["nmbot_listeners_in_flight"] == 0 and m["nmbot_store_up"] == 1
            assert not any(name.startswith("process_") for name in m)  # one process's figures would mislead
        assert get(server.probe_url + "/readyz").status == 200
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.text


def test_a_client_trickling_its_body_gets_a_408_and_holds_no_thread_past_the_deadline(stub, tmp_path):
    """gunicorn hands the body over as it arrives: without a deadline a trickling client keeps a worker
    thread for as long as it likes, and a handful of them keep every thread."""
    server = ServerProcess(bot_env(stub, NMBOT_BODY_SECONDS="1"), tmp_path)
    try:
        url = server.start()
        host, port = url.removeprefix("http://").split(":")
        head = ("POST /slack/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                "Content-Length: 200\r\n\r\n")
        trickling = []
        for _ in range(12):  # more than the worker's threads
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(head.encode() + b"{")
            trickling.append(sock)
        started = time.monotonic()
        answers = []
        for sock in trickling:
            with sock:
                answer = b""
                while data := sock.recv(65536):
                    answer += data
                answers.append(answer.decode().partition("\r\n")[0])
        assert answers == ["HTTP/1.1 408 Request Timeout"] * 12
        assert time.monotonic() - started < 8
        assert get(url + "/healthz").status == 200
        assert metrics_of(get(server.probe_url + "/metrics").body)[
            'nmbot_refused_requests_total{reason="slow_body"}'] == 12
    finally:
        assert server.stop() == 0


def test_the_probe_server_is_off_with_port_0_and_the_slack_port_still_answers_healthz(stub, tmp_path):
    server = ServerProcess(bot_env(stub, NMBOT_METRICS_PORT="0"), tmp_path)
    try:
        url = server.start()
        assert get(url + "/healthz").json()["ok"] is True
    finally:
        assert server.stop() == 0
    assert "health and metrics at" not in server.text


def test_a_dead_workers_counts_stay_and_its_work_in_flight_goes(stub, tmp_path):
    release = threading.Event()
    stub.fail_next("chat.postMessage", Fault(hold=release))
    server = ServerProcess(bot_env(stub, NMBOT_WEB_WORKERS="2", NMBOT_DATABASE_URL="memory://"), tmp_path)
    try:
        slack = SlackSender(server.start())
        poll_until(lambda: server.text.count("nmbot is serving Slack's requests") == 2, "both workers")
        doomed, other = worker_pids(server)
        os.kill(other, signal.SIGSTOP)  # so the doomed worker takes the event
        try:
            assert slack.event(message("level=error errorCode=-2010 trunk")).status == 200
            stub.wait_for("chat.postMessage")  # its reply is under way, held by the stand-in
        finally:
            os.kill(other, signal.SIGCONT)
        assert metrics_of(get(server.probe_url + "/metrics").body)["nmbot_listeners_in_flight"] == 1
        os.kill(doomed, signal.SIGKILL)
        poll_until(lambda: len(worker_pids(server)) == 3, "gunicorn to start a worker in its place")
        m = metrics_of(get(server.probe_url + "/metrics").body)
        assert m["nmbot_listeners_in_flight"] == 0  # a dead worker's runs are not running
        assert m['nmbot_requests_total{surface="event"}'] == 1  # but what it did still counts
    finally:
        release.set()
        assert server.stop() == 0


def test_a_serving_process_reads_pastes_without_hyperscan(kb):
    """Pastes and shared files are a few MB at most: the plain prefilter reads them in milliseconds, and a
    serving process does not carry Hyperscan's library and database (nmbot scan of huge logs still does)."""
    probe = ("import sys; from nmbot.engine.kb_files import load; from nmbot.slack.engine_holder import Engine; "
             "engine = Engine.build(load()); "
             "found = engine.scanner.scan_text('errorCode=-2004'); "
             "print('hyperscan' in sys.modules, [f.code for f in found])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout.split()
    assert out == ["False", "[-2004]"]
