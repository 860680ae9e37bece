"""The HTTP surface: signatures, health, and what is not there."""
from __future__ import annotations

import json
import time
import urllib.request

from slack_requests import get, message, send


def test_bad_signature_is_rejected(bot):
    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": message("errorCode=-2004")})
    response = bot.slack.post(body, "application/json", signature="v0=" + "0" * 64)
    assert response.status == 401
    bot.wait_idle()
    assert bot.posts() == []


def test_stale_timestamp_is_rejected_even_when_signed(bot):
    response = bot.slack.post("command=%2Fnmerror&text=-2004", "application/x-www-form-urlencoded",
                              timestamp=int(time.time()) - 600)
    assert response.status == 401


def test_unsigned_request_is_rejected(bot):
    request = urllib.request.Request(bot.url + "/slack/events", data=b"command=%2Fnmerror&text=-2004",
                                     method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert send(request).status == 401


def test_health_reports_the_knowledge_base(bot, kb):
    response = get(bot.url + "/healthz")
    assert response.status == 200
    assert response.json() == {"ok": True, "knowledge_base": kb.version, "store": "up"}


def test_health_says_the_store_is_gone_without_failing(bot):
    bot.store.close()
    response = get(bot.url + "/healthz")
    assert response.status == 200 and response.json()["ok"] is True
    assert response.json()["store"] == "down" and "closed" in response.json()["store_problem"]


def test_other_paths_are_not_found(bot):
    assert get(bot.url + "/").status == 404
    assert get(bot.url + "/slack/events").status == 404
