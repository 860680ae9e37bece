"""Reply kinds, surfaces, votes and modes: the words stored rows, metric labels and vote buttons carry."""
from __future__ import annotations

import json

from nmbot.replies.kinds import ABSTAINED, EXPLAINED, UNANSWERED, Autoreply, Kind, Surface, Vote
from nmbot.replies.refs import VoteRef


def test_the_values_never_change():
    assert [k.value for k in Kind] == ["card", "summary", "suggestions", "not_sure", "other_product", "no_codes",
                                       "help", "catalog", "trouble", "share", "removed"]
    assert [s.value for s in Surface] == ["command", "mention", "autoreply", "shadow", "shortcut", "button",
                                          "share", "reaction", "downvote"]
    assert [v.value for v in Vote] == ["up", "down"] and [m.value for m in Autoreply] == ["on", "off", "shadow"]


def test_each_is_its_string_wherever_it_goes():
    assert Kind.CARD == "card" and str(Kind.CARD) == f"{Kind.CARD}" == "card"
    assert "not_sure" in UNANSWERED and {"card": 1}[Kind.CARD] == 1
    assert json.dumps({"kind": Kind.SUMMARY}) == '{"kind": "summary"}'
    ref = VoteRef("a1b2c3d4e5f6", -2004, Surface.SHORTCUT, "1")
    assert VoteRef.decode(ref.encode()).surface == "shortcut"


def test_groups():
    assert EXPLAINED == {"card", "summary"} and UNANSWERED == {"suggestions", "not_sure"}
    assert ABSTAINED == {"suggestions", "not_sure", "other_product"}
