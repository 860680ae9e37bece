"""Where the bot token goes when a file is downloaded (and through which proxy), how long a download may take,
and that a slow download holds no thread a paste without files is answered on."""
from __future__ import annotations

import ipaddress
import re
import socket
import socketserver
import threading
import time
from types import SimpleNamespace
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_requests import mention, message
from webapi_stub import BOT_TOKEN

from nmbot.engine.resolver import Resolver
from nmbot.engine.scanner import Scanner
from nmbot.settings import Settings, SettingsError
from nmbot.slack.engine_holder import Engine, LiveEngine
from nmbot.slack.files import FileReaders, answer_with_files, may_send_token, scan_files
from nmbot.slack.metrics import Metrics

LOG = b'2024-06-03T04:15:20Z level=error errorCode=-2010 errorMsg="The trunk capacity has been exceeded"\n'
SLACK_API = "https://slack.com/api/"
STAND_IN_API = "http://127.0.0.1:8080/api/"


# --- which URLs may receive the token ------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://files.slack.com/files-pri/T1-F1/download/app.log",
    "https://FILES.Slack.COM/files-pri/T1-F1/app.log",
    "https://files.slack.com:443/files-pri/T1-F1/app.log",
    "https://files.slack-gov.com/files-pri/T1-F1/app.log",
])
def test_slacks_file_hosts_get_the_token(url):
    assert may_send_token(url, SLACK_API)


@pytest.mark.parametrize("url", [
    "https://evil.example/files-pri/T1-F1/app.log",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/app.log",
    "https://127.0.0.1/app.log",
    "http://files.slack.com/files-pri/T1-F1/app.log",  # the token in clear text
    "https://files.slack.com@evil.example/app.log",
    "https://evil.example@files.slack.com/app.log",  # user info: no URL from Slack carries one
    "https://files.slack.com:pass@evil.example/app.log",
    "https://files.slack.com\\@evil.example/app.log",
    "https://files.slack.com.evil.example/app.log",
    "https://evilfiles.slack.com/app.log",
    "https://x.files.slack.com/app.log",
    "https://slack.com/app.log",
    "https://files.slack.com./app.log",
    "https://files.slack.com:8443/app.log",
    "https://files.slack.com:99999/app.log",
    "https://files.slack.com:abc/app.log",
    "https://f\u0456les.slack.com/app.log",  # a Cyrillic i
    "https://\uff46\uff49\uff4c\uff45\uff53.slack.com/app.log",  # full-width letters
    "https://files%2eslack.com/app.log",
    "https://[::1]/app.log",
    "https://[files.slack.com/app.log",
    "ftp://files.slack.com/app.log",
    "//files.slack.com/app.log",
    "files.slack.com/app.log",
    "",
    None,
    42,
])
def test_no_other_url_gets_the_token(url):
    assert not may_send_token(url, SLACK_API)
    assert not may_send_token(url, STAND_IN_API)


def test_a_loopback_stand_in_for_the_web_api_gets_it_on_its_own_scheme_host_and_port_only():
    assert may_send_token("http://127.0.0.1:8080/files/F1?download=1", STAND_IN_API)
    assert may_send_token("http://[::1]:8080/files/F1", "http://[::1]:8080/api/")
    assert may_send_token("http://localhost:8080/files/F1", "http://localhost:8080/api/")
    for other in ("http://127.0.0.1:9999/files/F1", "https://127.0.0.1:8080/files/F1", "http://localhost:8080/files/F1",
                  "http://127.0.0.2:8080/files/F1", "http://127.0.0.1/files/F1"):
        assert not may_send_token(other, STAND_IN_API), other


def test_a_web_api_url_that_is_not_loopback_gives_its_host_nothing():
    api = "http://slack-proxy.corp.example:8080/api/"
    assert not may_send_token("http://slack-proxy.corp.example:8080/files/F1", api)
    assert not may_send_token("https://slack-proxy.corp.example/files/F1", "https://slack-proxy.corp.example/api/")


def test_hosts_the_operator_lists_get_it_over_https_on_the_port_listed():
    hosts = Settings.from_env({"NMBOT_FILE_HOSTS": " Files.Example.com , dl.example.com:8443,"}).file_hosts
    assert may_send_token("https://files.example.com/a.log", SLACK_API, hosts)
    assert may_send_token("https://dl.example.com:8443/a.log", SLACK_API, hosts)
    for other in ("http://files.example.com/a.log", "https://files.example.com:8443/a.log",
                  "https://dl.example.com/a.log", "https://sub.files.example.com/a.log",
                  "https://files.example.com.evil.example/a.log"):
        assert not may_send_token(other, SLACK_API, hosts), other


@pytest.mark.parametrize("entry", ["https://files.example.com", "files.example.com/x", "a..b", "-a.example",
                                   "files.example.com.", "x@files.example.com", "files.example.com:0",
                                   "files.example.com:70000", "f\u00efles.example.com", "files example.com"])
def test_a_malformed_file_host_is_refused_naming_the_variable(entry):
    with pytest.raises(SettingsError, match="NMBOT_FILE_HOSTS"):
        Settings.from_env({"NMBOT_FILE_HOSTS": f"files.slack.com,{entry}"})


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon", "601"])
def test_the_download_deadline_must_be_a_positive_number_of_seconds(value):
    with pytest.raises(SettingsError, match="NMBOT_DOWNLOAD_SECONDS"):
        Settings.from_env({"NMBOT_DOWNLOAD_SECONDS": value})


def test_the_download_deadline_defaults_to_ten_seconds():
    assert Settings.from_env({}).download_seconds == 10
    assert Settings.from_env({"NMBOT_DOWNLOAD_SECONDS": "2.5"}).download_seconds == 2.5


# Anything around or inside Slack's host name; a URL accepted must name that host and nothing else.
_JUNK = st.text(st.sampled_from(list("@:./\\?#%[]-_ \t\nAaxs0443\u0456\uff46")) | st.characters(), max_size=6)
_ACCEPTABLE_NETLOC = re.compile(r"files\.slack(-gov)?\.com(:0*443|:)?")


@given(before=_JUNK, after=_JUNK, scheme=st.sampled_from(["https", "http", "HTTPS", ""]))
def test_property_an_accepted_url_names_exactly_a_slack_file_host(before, after, scheme):
    url = f"{scheme}://{before}files.slack.com{after}/files-pri/T1-F1/app.log"
    if may_send_token(url, SLACK_API):
        parts = urlsplit(url)
        assert parts.scheme == "https" and _ACCEPTABLE_NETLOC.fullmatch(parts.netloc.lower()), url


# --- end to end: a foreign host never hears from the bot -------------------------------------------

class Recorder(socketserver.ThreadingTCPServer):
    """A server on another loopback port that records the first bytes of every connection made to it.

    With `drip`, it then answers as a TLS server that never finishes its first record: a byte every
    `drip` seconds, until the client hangs up."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, drip: float = 0.0) -> None:
        self.received: list[bytes] = []
        self.lock = threading.Lock()

        recorder = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(2)
                try:
                    data = self.request.recv(4096)
                except OSError:
                    data = b""
                with recorder.lock:
                    recorder.received.append(data)
                if drip:
                    self.drip()

            def drip(self) -> None:
                try:
                    self.request.sendall(b"\x16\x03\x03\x40\x00")  # a handshake record of 16 kB, to come
                    while True:
                        self.request.sendall(b"\x00")
                        time.sleep(drip)  # the pace of a slow server, not a wait for a result
                except OSError:
                    pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def connections(self) -> list[bytes]:
        with self.lock:
            return list(self.received)


def running(server: Recorder) -> Iterator[Recorder]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="foreign", daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def foreign() -> Iterator[Recorder]:
    yield from running(Recorder())


@pytest.fixture
def dripping() -> Iterator[Recorder]:
    yield from running(Recorder(drip=0.05))


def share(bot, file: dict, *, text: str = "", event=mention) -> dict:
    sent = event(text, files=[file]) if event is mention else event(text, subtype="file_share", files=[file])
    assert bot.slack.event(sent).status == 200
    bot.wait_idle()
    return sent


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_file_on_another_host_is_not_downloaded_and_the_reply_says_why(bot, foreign, scheme):
    url = f"{scheme}://127.0.0.1:{foreign.port}/files/F1?t=s3cr3t-query"
    file = bot.stub.add_file("F1", "app.log", LOG, url_private=url, url_private_download=url)
    share(bot, file)
    [post] = bot.posts()
    assert "app.log is not on Slack's file servers, so I did not download it" in post.blocks_text
    assert "s3cr3t" not in str(post.body) and str(foreign.port) not in str(post.body)
    assert foreign.connections() == []


def test_a_paste_with_codes_says_which_file_it_did_not_read(bot, foreign):
    url = f"https://127.0.0.1:{foreign.port}/files/F2"
    file = bot.stub.add_file("F2", "app.log", LOG, url_private=url, url_private_download=url)
    share(bot, file, text="errorCode=-2004", event=message)
    [post] = bot.posts()
    assert "-2004" in post.body["text"] and "app.log is not on Slack" in post.blocks_text
    assert foreign.connections() == []


def test_a_url_from_files_info_is_checked_too(bot, foreign):
    url = f"https://127.0.0.1:{foreign.port}/files/F3"
    bot.stub.add_file("F3", "app.log", LOG, url_private=url, url_private_download=url)
    share(bot, {"id": "F3", "file_access": "check_file_info"})
    assert bot.stub.calls_to("files.info")[0].body["file"] == "F3"
    [post] = bot.posts()
    assert "app.log is not on Slack" in post.blocks_text
    assert foreign.connections() == []


class TestListedHost:
    @pytest.fixture
    def bot_env(self, foreign):
        return {"NMBOT_FILE_HOSTS": f"127.0.0.1:{foreign.port}"}

    def test_a_listed_host_is_contacted_over_tls(self, bot, foreign):
        url = f"https://127.0.0.1:{foreign.port}/files/F4"
        share(bot, bot.stub.add_file("F4", "app.log", LOG, url_private=url, url_private_download=url))
        [hello] = foreign.connections()
        assert hello[:1] == b"\x16"  # a TLS handshake record: the token would follow only inside it
        assert BOT_TOKEN.encode() not in hello
        [post] = bot.posts()
        assert "I could not download app.log" in post.blocks_text  # this stand-in speaks no TLS

    def test_plain_http_to_a_listed_host_is_still_refused(self, bot, foreign):
        url = f"http://127.0.0.1:{foreign.port}/files/F5"
        share(bot, bot.stub.add_file("F5", "app.log", LOG, url_private=url, url_private_download=url))
        assert foreign.connections() == []


# --- one deadline for the whole download ---------------------------------------------------------

class TestDeadline:
    @pytest.fixture
    def bot_env(self):
        return {"NMBOT_DOWNLOAD_SECONDS": "1"}

    def test_a_server_sending_a_byte_at_a_time_is_cut_at_the_deadline(self, bot):
        # Each byte comes well within any per-read timeout; the whole answer would take over 10 s.
        file = bot.stub.add_file("F6", "slow.log", LOG * 3, trickle=0.03)
        started = time.monotonic()
        assert bot.slack.event(mention("", files=[file])).status == 200
        [post] = bot.stub.wait_for("chat.postMessage", timeout=8)
        took = time.monotonic() - started
        assert "slow.log took longer than 1 second to download" in post.blocks_text
        assert 0.9 <= took < 4, took
        bot.wait_idle()


class TestDeadlineOverTheHandshake:
    @pytest.fixture
    def bot_env(self, dripping):
        return {"NMBOT_DOWNLOAD_SECONDS": "1", "NMBOT_FILE_HOSTS": f"127.0.0.1:{dripping.port}"}

    def test_a_tls_handshake_sent_a_byte_at_a_time_is_cut_at_the_deadline(self, bot, dripping):
        url = f"https://127.0.0.1:{dripping.port}/files/F7"
        file = bot.stub.add_file("F7", "slow.log", LOG, url_private=url, url_private_download=url)
        started = time.monotonic()
        assert bot.slack.event(mention("", files=[file])).status == 200
        [post] = bot.stub.wait_for("chat.postMessage", timeout=8)
        took = time.monotonic() - started
        assert "slow.log took longer than 1 second to download" in post.blocks_text
        assert 0.9 <= took < 4, took
        assert len(dripping.connections()) == 1
        bot.wait_idle()


# --- a slow download holds no thread a plain paste waits for -------------------------------------

def test_a_paste_is_answered_while_slow_downloads_hold_their_threads(bot):
    held = threading.Event()
    try:
        # More held downloads than the harness has listener threads.
        for i in range(6):
            file = bot.stub.add_file(f"FH{i}", f"held{i}.log", LOG, hold=held)
            assert bot.slack.event(message("errorCode=-2004", subtype="file_share", files=[file])).status == 200
        bot.stub.wait_for("file:FH0", timeout=5)
        paste = message("errorCode=-2005 in the trunk")
        assert bot.slack.event(paste).status == 200
        bot.stub.wait_until(lambda: any(p.body.get("thread_ts") == paste["ts"] for p in bot.posts()), 3,
                            "the reply to the paste without files")
        assert len(bot.posts()) == 1  # every message with a file is still waiting for its file
    finally:
        held.set()
    bot.stub.wait_for("chat.postMessage", count=7, timeout=10)
    bot.wait_idle()


def file_readers(kb, threads: int, waiting: int) -> FileReaders:
    return FileReaders(LiveEngine(Engine(kb, Resolver(kb), Scanner(kb))), Metrics(), threads=threads, waiting=waiting)


def test_file_readers_take_a_bounded_number_of_messages_and_drain(kb):
    readers = file_readers(kb, threads=1, waiting=1)
    release, ran = threading.Event(), []
    try:
        assert readers.submit(lambda: (release.wait(5), ran.append(1)))
        assert readers.submit(lambda: ran.append(2))
        assert not readers.submit(lambda: ran.append(3))  # one running, one waiting: full
        assert readers.in_flight == 2 and not readers.drain(0.05)
    finally:
        release.set()
    assert readers.drain(5) and sorted(ran) == [1, 2]
    assert readers.submit(lambda: ran.append(4)) and readers.drain(5) and ran[-1] == 4
    readers.shutdown()
    assert not readers.submit(lambda: ran.append(5))


def test_a_message_with_files_is_answered_elsewhere_or_at_once_without_its_files_when_too_many_wait(kb):
    readers = file_readers(kb, threads=1, waiting=0)
    deps = SimpleNamespace(file_readers=readers)
    with_file, answered = {"files": [{"name": "app.log"}]}, []

    def answer(read_files: bool) -> None:
        answered.append((read_files, threading.current_thread() is threading.main_thread()))

    answer_with_files(deps, {"text": "no files"}, answer)
    assert answered.pop() == (True, True)  # nothing to download: answered where it came in
    answer_with_files(deps, with_file, answer)
    assert readers.drain(5) and answered.pop() == (True, False)  # on a file thread
    release = threading.Event()
    try:
        assert readers.submit(release.wait, 5)
        answer_with_files(deps, with_file, answer)
        assert answered.pop() == (False, True)  # every file thread busy, no room to wait: at once, unread
    finally:
        release.set()
    assert readers.drain(5)
    readers.shutdown()


def test_a_file_left_unread_gets_a_note_and_no_download():
    scan = scan_files(None, None, {"files": [{"name": "app.log", "url_private": "https://files.slack.com/x"}]},
                      read=False)
    assert scan.findings == [] and scan.read == []
    assert scan.notes == ["I was reading too many other files to read app.log: share it again in a few minutes."]


# --- through the proxy HTTPS_PROXY names, as Web API calls go ---------------------------------------

SLACK_FILE = "https://files.slack.com/files-pri/T1-F1/download/app.log"
CONNECTED = b"HTTP/1.1 200 Connection established\r\n\r\n"


class ConnectProxy(socketserver.ThreadingTCPServer):
    """An http proxy on loopback speaking only CONNECT: records each request's head and answers `answer`
    (a byte every `drip` seconds when set); after a 2xx it pipes bytes both ways to 127.0.0.1:`upstream`,
    whatever host was named (it resolves every name there), recording what the client sent through."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: int, answer: bytes = CONNECTED, drip: float = 0.0) -> None:
        self.heads: list[bytes] = []
        self.tunnelled: list[bytearray] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    self.answer()
                except OSError:  # the client hung up: what a proxy sees when a download is given up
                    pass

            def answer(self) -> None:
                self.request.settimeout(5)
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = self.request.recv(4096)
                    if not data:
                        return
                    head += data
                with proxy.lock:
                    proxy.heads.append(head)
                for at in range(0, len(answer), 1 if drip else len(answer)):
                    self.request.sendall(answer[at:at + 1] if drip else answer)
                    if drip:
                        time.sleep(drip)  # the pace of a slow proxy, not a wait for a result
                if answer.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")):
                    self.tunnel()

            def tunnel(self) -> None:
                sent = bytearray()
                with proxy.lock:
                    proxy.tunnelled.append(sent)
                with socket.create_connection(("127.0.0.1", upstream), timeout=5) as far:
                    back = threading.Thread(target=pipe, args=(far, self.request, bytearray()), daemon=True)
                    back.start()
                    pipe(self.request, far, sent)
                    back.join(5)

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def requests(self) -> list[bytes]:
        """The first line of every request received."""
        with self.lock:
            return [head.split(b"\r\n", 1)[0] for head in self.heads]

    def seen(self) -> bytes:
        """Every byte a client sent this proxy: request heads and what went through the tunnels."""
        with self.lock:
            return b"".join(self.heads) + b"".join(bytes(sent) for sent in self.tunnelled)


def pipe(source: socket.socket, sink: socket.socket, record: bytearray) -> None:
    try:
        while data := source.recv(65536):
            record += data
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def server_name(hello: bytes) -> str | None:
    """The SNI host name of a TLS ClientHello record; None when it names none."""
    at = 5 + 4 + 2 + 32  # record header, handshake header, version, random
    at += 1 + hello[at]  # session id
    at += 2 + int.from_bytes(hello[at:at + 2], "big")  # cipher suites
    at += 1 + hello[at]  # compression methods
    end, at = at + 2 + int.from_bytes(hello[at:at + 2], "big"), at + 2
    while at + 4 <= end:
        kind, size = int.from_bytes(hello[at:at + 2], "big"), int.from_bytes(hello[at + 2:at + 4], "big")
        if kind == 0:  # server_name: list length (2), name type (1), name length (2), the name
            return hello[at + 9:at + 4 + size].decode()
        at += 4 + size
    return None


@pytest.fixture
def far() -> Iterator[Recorder]:
    """Where the proxy's tunnels lead: it records the ClientHello and hangs up, speaking no TLS."""
    yield from running(Recorder())


@pytest.fixture
def start_proxy(far) -> Iterator[Callable[..., ConnectProxy]]:
    runs = []

    def start(**kwargs) -> ConnectProxy:
        run = running(ConnectProxy(far.port, **kwargs))
        runs.append(run)
        return next(run)

    yield start
    for run in runs:
        next(run, None)


@pytest.fixture
def resolver(monkeypatch) -> SimpleNamespace:
    """Name resolution in this process: loopback as ever, `names` to 127.0.0.1, any other name refused
    (no query leaves the test); every name asked is recorded."""
    real, asked, names = socket.getaddrinfo, [], set()

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host in names:
            host = "127.0.0.1"
        elif host != "localhost" and not is_address(host):
            raise socket.gaierror(socket.EAI_NONAME, "not resolved in tests")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return SimpleNamespace(asked=asked, names=names)


def is_address(host: object) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def use_proxy(monkeypatch, url: str, no_proxy: str = "127.0.0.1") -> None:
    """HTTPS_PROXY for this test; NO_PROXY keeps calls to the Web API stand-in direct (slack_sdk honours both)."""
    for name in ("https_proxy", "http_proxy", "no_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", url)
    monkeypatch.setenv("NO_PROXY", no_proxy)


def share_slack_file(bot, file_id: str = "FP1") -> None:
    share(bot, bot.stub.add_file(file_id, "app.log", LOG, url_private=SLACK_FILE, url_private_download=SLACK_FILE))


def file_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nmbot.slack.files" and r.levelname == "WARNING"]


def test_a_download_goes_through_the_proxy_with_tls_inside_the_tunnel(bot, start_proxy, far, resolver, monkeypatch):
    proxy = start_proxy()
    use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.port}")
    share_slack_file(bot)
    assert proxy.requests() == [b"CONNECT files.slack.com:443 HTTP/1.1"]
    assert b"Proxy-Authorization" not in proxy.seen()
    [through] = proxy.tunnelled
    assert through[:1] == b"\x16" and server_name(bytes(through)) == "files.slack.com"  # TLS to Slack's host
    assert BOT_TOKEN.encode() not in proxy.seen() and b"Authorization" not in proxy.seen()
    assert len(far.connections()) == 1
    assert "files.slack.com" not in resolver.asked  # the proxy resolves it
    [post] = bot.posts()
    assert "I could not download app.log" in post.blocks_text  # the far end speaks no TLS


def test_the_proxy_urls_credentials_go_to_the_proxy_and_nowhere_else(bot, start_proxy, resolver, monkeypatch,
                                                                    caplog):
    proxy = start_proxy()
    use_proxy(monkeypatch, f"http://nmbot%40corp:pr0xy%3Apass@127.0.0.1:{proxy.port}")
    share_slack_file(bot)
    [head] = proxy.heads
    assert b"\r\nProxy-Authorization: Basic bm1ib3RAY29ycDpwcjB4eTpwYXNz\r\n" in head  # nmbot@corp:pr0xy:pass
    assert BOT_TOKEN.encode() not in proxy.seen()
    assert len(file_warnings(caplog)) == 1  # the far end speaks no TLS
    for secret in ("pr0xy", "bm1ib3RAY29ycDpwcjB4eTpwYXNz"):
        assert secret not in caplog.text and secret not in str(bot.posts()[0].body)


def test_a_proxy_refusing_the_tunnel_is_one_warning_and_a_note(bot, start_proxy, far, resolver, monkeypatch, caplog):
    proxy = start_proxy(answer=b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                               b"Proxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n")
    use_proxy(monkeypatch, f"http://nmbot:wr0ng@127.0.0.1:{proxy.port}")
    share_slack_file(bot)
    assert proxy.requests() == [b"CONNECT files.slack.com:443 HTTP/1.1"]
    [warning] = file_warnings(caplog)
    assert "407" in warning and "wr0ng" not in caplog.text
    assert proxy.tunnelled == [] and far.connections() == []
    [post] = bot.posts()
    assert "I could not download app.log" in post.blocks_text


@pytest.mark.parametrize("scheme", ["https", "socks5"])
def test_a_proxy_of_another_kind_is_refused_naming_its_scheme(bot, start_proxy, resolver, monkeypatch, caplog, scheme):
    proxy = start_proxy()
    use_proxy(monkeypatch, f"{scheme}://nmbot:s3cret@127.0.0.1:{proxy.port}")
    share_slack_file(bot)
    [warning] = file_warnings(caplog)
    assert f"{scheme}://" in warning and "s3cret" not in caplog.text
    assert proxy.heads == [] and "files.slack.com" not in resolver.asked  # nor directly, around the proxy
    [post] = bot.posts()
    assert "I could not download app.log" in post.blocks_text


class TestNoProxy:
    @pytest.fixture
    def bot_env(self, foreign):
        return {"NMBOT_FILE_HOSTS": f"files.nmbot.test:{foreign.port},localhost:{foreign.port}"}

    def test_hosts_no_proxy_names_are_reached_directly(self, bot, start_proxy, foreign, resolver, monkeypatch):
        proxy = start_proxy()
        resolver.names.add("files.nmbot.test")
        use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.port}", no_proxy="127.0.0.1, .nmbot.test")
        direct = f"https://files.nmbot.test:{foreign.port}/files/FP2"
        files = [bot.stub.add_file("FP1", "slack.log", LOG, url_private=SLACK_FILE, url_private_download=SLACK_FILE),
                 bot.stub.add_file("FP2", "direct.log", LOG, url_private=direct, url_private_download=direct)]
        assert bot.slack.event(mention("", files=files)).status == 200
        bot.wait_idle()
        assert proxy.requests() == [b"CONNECT files.slack.com:443 HTTP/1.1"]
        [hello] = foreign.connections()
        assert server_name(hello) == "files.nmbot.test"

    def test_a_loopback_host_is_never_proxied(self, bot, start_proxy, foreign, resolver, monkeypatch):
        proxy = start_proxy()
        use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.port}")  # NO_PROXY names 127.0.0.1, not localhost
        url = f"https://localhost:{foreign.port}/files/FP3"
        share(bot, bot.stub.add_file("FP3", "app.log", LOG, url_private=url, url_private_download=url))
        assert proxy.heads == []
        [hello] = foreign.connections()
        assert hello[:1] == b"\x16"


class TestProxyDeadline:
    @pytest.fixture
    def bot_env(self):
        return {"NMBOT_DOWNLOAD_SECONDS": "1"}

    def test_a_proxy_answering_a_byte_at_a_time_is_cut_at_the_deadline(self, bot, start_proxy, resolver,
                                                                      monkeypatch):
        # Its answer would take over 30 s in all.
        proxy = start_proxy(answer=CONNECTED[:-2] + b"X-Pad: " + b"x" * 1000 + b"\r\n\r\n", drip=0.03)
        use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.port}")
        file = bot.stub.add_file("FP4", "slow.log", LOG, url_private=SLACK_FILE, url_private_download=SLACK_FILE)
        started = time.monotonic()
        assert bot.slack.event(mention("", files=[file])).status == 200
        [post] = bot.stub.wait_for("chat.postMessage", timeout=8)
        took = time.monotonic() - started
        assert "slow.log took longer than 1 second to download" in post.blocks_text
        assert 0.9 <= took < 4, took
        assert proxy.requests() == [b"CONNECT files.slack.com:443 HTTP/1.1"]
        bot.wait_idle()
