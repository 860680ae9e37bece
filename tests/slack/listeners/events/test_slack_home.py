"""The App Home tab over real HTTP: published on app_home_opened, catalog by kind, how to ask, figures."""
from __future__ import annotations

import json

from slack_interactions import click, home_opened
from slack_requests import USER

from nmbot.cards.action_ids import VOTE_UP


def open_home(bot, **kwargs) -> None:
    assert bot.slack.event(home_opened(**kwargs)).status == 200
    bot.wait_idle()


def published(bot) -> tuple[str, dict]:
    [call] = bot.stub.calls_to("views.publish")
    view = call.body["view"]
    return call.body["user_id"], json.loads(view) if isinstance(view, str) else view


def test_opening_the_home_tab_publishes_the_catalog_by_kind(bot, kb):
    open_home(bot)
    user, view = published(bot)
    assert user == USER and view["type"] == "home" and len(view["blocks"]) <= 100
    text = json.dumps(view["blocks"], ensure_ascii=False)
    for entry in kb:
        assert f"`{entry.code}`" in text
    for kind in ("Platform", "Call flow", "Routing", "Media", "Session", "Caller ID", "Capacity"):
        assert f"*{kind}*" in text
    assert "How to ask" in text and "/nmerror autoreply" in text and "Explain error codes" in text
    assert kb.version in text


def test_the_home_tab_shows_the_teams_recent_figures(bot):
    card = bot.slack.command("-2004").json()
    bot.slack.command("is the coffee machine fixed")
    bot.wait_idle()
    assert click(bot.slack, card, VOTE_UP, response_url=bot.stub.response_url()).status == 200
    bot.wait_idle()
    open_home(bot)
    _, view = published(bot)
    figures = next(b for b in view["blocks"] if b.get("fields"))
    shown = [f["text"] for f in figures["fields"]]
    assert shown[0].startswith("*Codes explained*\n1 ")
    assert shown[1] == "*Not answered with confidence*\n1"
    assert shown[2].startswith("*Helpful*\n100%")
    assert "`-2004` (1)" in shown[3]
    # Team totals only: no question asked and no channel shows in a personal tab.
    text = json.dumps(view, ensure_ascii=False)
    assert "coffee" not in text and "C0000CHAN" not in text


def test_the_messages_tab_is_not_answered(bot):
    open_home(bot, tab="messages")
    assert bot.stub.calls_to("views.publish") == []


def test_the_home_tab_works_without_the_state_store(bot):
    bot.store.close()
    open_home(bot)
    _, view = published(bot)
    assert not any(b.get("fields") for b in view["blocks"])
    assert "`-2004`" in json.dumps(view["blocks"])


def test_a_failed_publish_is_not_an_error_for_slack(bot):
    bot.stub.fail("views.publish", "invalid_blocks")
    open_home(bot)
    assert len(bot.stub.calls_to("views.publish")) == 1


def test_the_home_tab_says_which_codes_8x8_documents_beyond_their_message(bot, kb):
    open_home(bot)
    _, view = published(bot)
    lines = [line for b in view["blocks"] for line in b.get("text", {}).get("text", "").splitlines()]
    tagged = {e.code: next(x for x in lines if x.startswith(f"`{e.code}` ")) for e in kb}
    for e in kb:
        tag = "_8x8 docs: message only; the rest is our notes_" if e.message_only else "_8x8 docs and our notes_"
        assert tagged[e.code].endswith(tag), tagged[e.code]
    assert tagged[-2006].endswith("message only; the rest is our notes_")
    assert tagged[-2008].endswith("_8x8 docs and our notes_")
    legend = json.dumps([b for b in view["blocks"] if b["type"] == "context"], ensure_ascii=False)
    assert "*8x8 docs* (8x8's documented guidance, its page linked)" in legend and "*Our notes*" in legend
