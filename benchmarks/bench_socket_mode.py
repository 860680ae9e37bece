"""Socket Mode: how fast `nmbot serve` acknowledges, and how it comes back after each way a connection ends.

`nmbot serve` (Socket Mode, production settings unless --ping is given: pings every 10 s, give-up after
300 s) runs as a child process against the local stand-ins for Slack's Socket Mode end
(tests/slack/socket_stub.py) and Web API (tests/slack/webapi_stub.py), state in SQLite. In turn:

  * acks: /nmerror commands one after another, time from sending the envelope to its ack;
  * refresh: Slack's `disconnect: refresh_requested`, then at once a command on the old socket, and one on
    the new socket as soon as it opens; the slower of the two acks, counted from the refresh;
  * close frame, dropped TCP connection (no close frame), silent connection (nothing read, pings unanswered):
    time from the event to the new connection's opening, and the child's CPU over that time;
  * refused upgrade (HTTP 403, another child with NMBOT_SOCKET_GIVE_UP=--give-up): the attempts' spacing,
    whether it ever claimed to be connected, its exit status and when it exited.

Targets (issue 10): no ack later than 1 s around a refresh; close frame -> reconnected < 2 s; a dropped or
silent connection noticed and replaced < 30 s without burning CPU (< 5 % of one core while waiting); a
refused upgrade never reported as connected, retried with growing pauses, exit status 75 after the give-up.

    .venv/bin/python benchmarks/bench_socket_mode.py [--rounds 3] [--ping 10] [--give-up 20] [--strict]
"""
from __future__ import annotations

import sys
import tempfile
import time

from _common import ROOT, check, finish, heading, info, parser, percentile

sys.path[:0] = [str(ROOT / "tests" / "slack"), str(ROOT / "tests")]
from server_process import ServerProcess, socket_env  # noqa: E402 - the test helpers: one way to do each thing
from slack_requests import command_form  # noqa: E402
from socket_stub import SocketModeStub  # noqa: E402
from webapi_stub import WebApiStub  # noqa: E402

CONNECTED = "nmbot is connected to Slack in Socket Mode"


def command(slack: SocketModeStub, link=None) -> tuple[str, float]:
    return slack.send("slash_commands", command_form("-2008"), link=link), time.monotonic()


def acks(slack: SocketModeStub, count: int) -> list[float]:
    seconds = []
    for _ in range(count):
        envelope, sent = command(slack)
        seconds.append(slack.wait_ack(envelope).at - sent)
    return seconds


def refresh(slack: SocketModeStub) -> tuple[float, float]:
    """(the slower ack of the commands sent around a refresh, counted from the refresh; the reconnection)."""
    old, count = slack.open_links()[-1], len(slack.links)
    began = time.monotonic()
    slack.refresh(old)
    on_old, _ = command(slack, old)
    new = slack.wait_for_link(count + 1, 10)
    on_new, _ = command(slack, new)
    latest = slack.wait_ack(on_new).at
    if on_old in slack.acks or _acked_within(slack, on_old, 2):
        latest = max(latest, slack.acks[on_old].at)  # else lost with the old socket: Slack delivers it again
    return latest - began, new.opened_at - began


def _acked_within(slack: SocketModeStub, envelope: str, seconds: float) -> bool:
    try:
        slack.wait_ack(envelope, seconds)
        return True
    except AssertionError:
        return False


def reconnect(slack: SocketModeStub, server: ServerProcess, how: str, timeout: float) -> tuple[float, float]:
    """(seconds from ending the connection `how` to the new one's opening, CPU share of one core meanwhile)."""
    old, count = slack.open_links()[-1], len(slack.links)
    cpu, began = server.cpu_seconds(), time.monotonic()
    getattr(slack, how)(old)
    new = slack.wait_for_link(count + 1, timeout)
    took = new.opened_at - began
    return took, (server.cpu_seconds() - cpu) / max(time.monotonic() - began, 1e-9)


def refused(stub: WebApiStub, slack: SocketModeStub, give_up: float, ping: float | None) -> list:
    slack.refuse_with = 403
    before = len(slack.attempts)
    extra = {"NMBOT_SOCKET_PING_SECONDS": str(ping)} if ping else {}
    with tempfile.TemporaryDirectory() as cwd:
        began = time.monotonic()
        server = ServerProcess(socket_env(stub, NMBOT_SOCKET_GIVE_UP=str(give_up), **extra), cwd, http=False)
        code = server.proc.wait(timeout=give_up + 60)
        took = time.monotonic() - began
    slack.refuse_with = None
    attempts = slack.attempts[before:]
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
    growing = all(later > earlier for earlier, later in zip(gaps, gaps[1:-1]))  # the last is cut by the give-up
    print(f"refused upgrade: {len(attempts)} attempts, pauses {', '.join(f'{g:.1f}' for g in gaps)} s; "
          f"exit {code} after {took:.1f} s", flush=True)
    return [check("refused: claimed connected", float(CONNECTED in server.text), "", "<", 1, "never"),
            check("refused: pauses grow", float(growing), "", ">=", 1, "yes"),
            check("refused: exit status 75", float(code == 75), "", ">=", 1, "yes"),
            check("refused: exit after give-up", took - give_up, "s", "<", 10, "give-up + 10 s")]


def main() -> int:
    p = parser(__doc__)
    p.add_argument("--rounds", type=int, default=3, help="each way of ending a connection, this many times")
    p.add_argument("--ping", type=float, default=None, help="NMBOT_SOCKET_PING_SECONDS (default: the bot's, 10)")
    p.add_argument("--give-up", type=float, default=20, help="NMBOT_SOCKET_GIVE_UP for the refused-upgrade run")
    p.add_argument("--commands", type=int, default=200, help="commands for the ack figures")
    args = p.parse_args()
    stub, slack = WebApiStub().start(), SocketModeStub().start()
    stub.socket_urls = slack.new_url
    extra = {"NMBOT_SOCKET_PING_SECONDS": str(args.ping)} if args.ping else {}
    results = []
    with tempfile.TemporaryDirectory() as cwd:
        server = ServerProcess(socket_env(stub, NMBOT_LOG_LEVEL="warning", **extra), cwd, http=False)
        try:
            slack.wait_for_link(1, 30)
            heading("acks")
            acks(slack, 20)  # warm-up
            seconds = acks(slack, args.commands)
            results += [info("ack p50", percentile(seconds, 50) * 1000, "ms"),
                        check("ack p99", percentile(seconds, 99) * 1000, "ms", "<", 100)]
            heading("refresh")
            rounds = [refresh(slack) for _ in range(args.rounds)]
            print("slowest ack, reconnected:", "; ".join(f"{a:.3f} s, {r:.3f} s" for a, r in rounds), flush=True)
            results += [check("refresh: slowest ack", max(a for a, _ in rounds), "s", "<", 1),
                        info("refresh: reconnected", max(r for _, r in rounds), "s")]
            for how, name, limit in (("close_frame", "close frame", 2), ("drop", "dropped TCP", 30),
                                     ("silence", "silent", 30)):
                heading(name)
                rounds = [reconnect(slack, server, how, 60) for _ in range(args.rounds)]
                print("reconnected, CPU:", "; ".join(f"{t:.2f} s, {c:.1%}" for t, c in rounds), flush=True)
                results += [check(f"{name}: reconnected", max(t for t, _ in rounds), "s", "<", limit),
                            check(f"{name}: CPU while waiting", max(c for _, c in rounds) * 100, "%", "<", 5)]
        finally:
            code = server.stop()
        results.append(check("SIGTERM: exit status 0", float(code == 0), "", ">=", 1, "yes"))
    heading("refused upgrade")
    results += refused(stub, slack, args.give_up, args.ping)
    slack.stop()
    stub.stop()
    return finish(results, args)


if __name__ == "__main__":
    sys.exit(main())
