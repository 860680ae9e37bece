"""The error card: every card within Slack's limits, nothing injectable, drawn again exactly as afresh."""
from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest
from block_checks import assert_within_limits
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from nmbot.cards.action_ids import OPEN_DOCS, SHARE_CARD, VOTE_DOWN, VOTE_UP, WHY
from nmbot.cards.content import Card, card_for_entry, card_for_resolution
from nmbot.cards.error_card import TITLE_BLOCKS, card_message
from nmbot.cards.kit import context, escape
from nmbot.cards.terminal import render_card
from nmbot.engine.knowledge import Sourced
from nmbot.engine.scanner import Finding
from nmbot.replies.refs import VoteRef, WhyRef


def test_every_entry_renders_a_valid_card(kb):
    for entry in kb:
        message = card_message(card_for_entry(kb, entry), share_button=True)
        assert_within_limits(message)
        header = message["blocks"][0]
        assert header["type"] == "header" and header["text"]["text"] == f"{entry.code} \u00b7 {entry.message}"
        rendered = json.dumps(message)
        assert "1. " in rendered and "Who can fix it" in rendered and "When escalating" in rendered
        assert entry.docs in rendered and kb.version in rendered
        for code in entry.related:
            assert f"`{code}`" in rendered


def test_card_parts(kb):
    card = card_for_entry(kb, kb.get(-2004), why="The code -2004 appears in the question.")
    message = card_message(card, share_button=True, share_thread_ts="1700000000.000100")
    actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == [OPEN_DOCS, SHARE_CARD]
    assert actions[0]["url"] == card.docs and actions[1]["value"] == "-2004@1700000000.000100"
    assert message["text"] == f"{card.header}: {card.title}"
    assert message["blocks"][-1]["type"] == "context"


def test_shared_card_says_who_shared_it_and_offers_no_share_button(kb):
    message = card_message(card_for_entry(kb, kb.get(-2004)), shared_by="U0PAT")
    assert "Shared by <@U0PAT>" in json.dumps(message["blocks"]) and "(shared by <@U0PAT>)" in message["text"]
    assert SHARE_CARD not in json.dumps(message)
    forged = card_message(card_for_entry(kb, kb.get(-2004)), shared_by="<!channel>")
    assert "<!channel>" not in json.dumps(forged)


def test_oversized_knowledge_text_is_cut_to_fit(kb):
    entry = kb.get(-2001)
    page = "https://developer.8x8.com/" + "p" * 500
    steps = tuple(Sourced("s" * 2900, page=page if i % 2 else "") for i in range(7))
    huge = replace(entry, message="m" * 400, title="t" * 300, meaning="x" * 5000, steps=tuple(s.text for s in steps),
                   meaning_items=(Sourced("x" * 5000, page=page), Sourced("y" * 5000)), step_items=steps,
                   escalate=("e" * 1000,) * 9, owner_detail="o" * 4000, related=tuple(range(-2100, -2000)))
    message = card_message(card_for_entry(kb, huge), share_button=True)
    assert_within_limits(message)
    assert message["blocks"][0]["text"]["text"].endswith("\u2026")
    assert "s" * 2000 in json.dumps(message)  # the long steps are there, cut to fit


def test_evidence_is_masked_escaped_and_fenced(kb):
    evidence = ("errorCode=-2004 callee=+6591234567 note=```<!channel>```",)
    message = card_message(card_for_entry(kb, kb.get(-2004), evidence=evidence))
    section = next(b for b in message["blocks"] if "Seen in your log" in json.dumps(b))
    text = section["text"]["text"]
    assert "6591234567" not in text and "\u2022\u202267" in text
    assert "&lt;!channel&gt;" in text and text.count("```") == 2
    assert section["text"]["verbatim"] is True


def test_evidence_full_of_markup_keeps_its_code_block_closed(kb):
    evidence = tuple("<" * 400 for _ in range(5))
    message = card_message(card_for_entry(kb, kb.get(-2004), evidence=evidence))
    assert_within_limits(message)
    section = next(b for b in message["blocks"] if "Seen in your log" in json.dumps(b))
    assert section["text"]["text"].endswith("```")


# --- a card drawn again is cheap, and exactly the card drawn afresh ---------------------------------

def card_variants(kb, entry):
    """The card, the card as a question gets it, and the card of a log finding (with its own vote and why)."""
    finding = Finding(entry.code, True, 3, 7, f"errorCode={entry.code} callee=+6591234567 <!channel> `x`", entry)
    asked = WhyRef(entry.code, "phrase", "no coverage", 71.5, -2001, 40.0, "title", "other", "calls fail +6591234567")
    return [
        (card_for_entry(kb, entry), None),
        (card_for_entry(kb, entry, why="The code appears in the question."), asked),
        (card_for_entry(kb, entry, why="Found 3 times in the log, first on line 7.", evidence=(finding.evidence,)),
         WhyRef.for_finding(finding)),
    ]


def as_sdk_draws_it(message: dict) -> dict:
    """The message with every block parsed by the SDK and drawn again."""
    return {"text": message["text"], "blocks": [Block.parse(raw).to_dict() for raw in message["blocks"]]}


def same_bytes(a: dict, b: dict) -> bool:
    return json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


def test_a_card_drawn_again_is_the_card_drawn_afresh(kb):
    options = itertools.product([None, "U0PAT"], [False, True], [None, "1700000000.000100"], [False, True],
                                [False, True])
    drawings = itertools.count()
    for (shared_by, share_button, thread_ts, voted, explained), entry in itertools.product(list(options), kb):
        for card, why in card_variants(kb, entry):
            kwargs = dict(shared_by=shared_by, share_button=share_button, share_thread_ts=thread_ts,
                          vote=VoteRef("card1", entry.code, "command", kb.version, "q") if voted else None,
                          why=why if explained else None)
            # A card no earlier call has drawn, so the first drawing is a fresh one.
            card = replace(card, footer=f"{card.footer} ({next(drawings)})")
            first = card_message(card, **kwargs)
            again = card_message(card, **kwargs)
            assert same_bytes(first, again)
            assert same_bytes(first, as_sdk_draws_it(first))  # the buttons built without the SDK included


def test_changing_a_card_message_does_not_change_the_next(kb):
    card = card_for_entry(kb, kb.get(-2004), why="The code -2004 appears in the question.")
    vote = VoteRef("card1", -2004, "command", kb.version)
    first = card_message(card, share_button=True, vote=vote)
    expected = json.loads(json.dumps(first))
    first["text"] = "changed"
    for block in first["blocks"]:
        for node in [block.get("text"), *block.get("fields", ()), *block.get("elements", ())]:
            if isinstance(node, dict):
                node["changed"] = True
                if isinstance(node.get("text"), dict):
                    node["text"]["text"] = "changed"
        block["type"] = "changed"
    first["blocks"].append({"type": "divider"})
    assert card_message(card, share_button=True, vote=vote) == expected


def test_each_card_carries_its_own_vote_and_why(kb):
    card = card_for_entry(kb, kb.get(-2004))

    def values(card_id: str, question: str) -> dict:
        message = card_message(card, share_button=True, vote=VoteRef(card_id, -2004, "command", kb.version),
                               why=WhyRef(-2004, "code", "-2004", 100.0, question=question))
        actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
        return {a["action_id"]: a.get("value") for a in actions}

    one, two = values("card1", "-2004?"), values("card2", "what is -2004")
    assert VoteRef.decode(one[VOTE_UP]).card_id == VoteRef.decode(one[VOTE_DOWN]).card_id == "card1"
    assert VoteRef.decode(two[VOTE_UP]).card_id == VoteRef.decode(two[VOTE_DOWN]).card_id == "card2"
    assert WhyRef.decode(one[WHY]).question == "-2004?"
    assert WhyRef.decode(two[WHY]).question == "what is -2004"


def test_a_button_value_slack_would_refuse_is_refused(kb):
    with pytest.raises(SlackObjectFormationError):
        card_message(card_for_entry(kb, kb.get(-2004)), share_button=True, share_thread_ts="1" * 2000)


@pytest.mark.parametrize("why, evidence", [
    ("Found once in the log, first on line 1.", ("level=error errorCode=-2010 callee=+6591234567",)),
    ("Found 3 times <in> the log & more", ("`quoted` <@U123> @here", "x" * 5000, "second", "3", "4", "5", "6")),
    ("w" * 4000, ()),
    ("", ("only evidence",)),
])
def test_a_findings_own_blocks_are_what_the_sdk_draws(why, evidence):
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    card = Card(code=-2010, header="h", title="t", category="c", meaning="m", causes=(), steps=("s",), owner="o",
                owner_detail="d", escalate=("e",), related=(), docs="https://docs.8x8.com", footer="f", why=why,
                evidence=evidence)
    # The finding's own blocks follow the header and the meaning.
    found = card_message(card)["blocks"][TITLE_BLOCKS:TITLE_BLOCKS + bool(why) + bool(evidence)]
    quoted = found[-1]["text"]["text"] if evidence else ""
    evidence_section = SectionBlock(text=MarkdownTextObject(text=quoted, verbatim=True))
    drawn = ([context(escape(why)).to_dict()] if why else []) + ([evidence_section.to_dict()] if evidence else [])
    assert json.dumps(found) == json.dumps(drawn)


def test_a_card_for_a_sign_less_code_carries_the_note_in_slack_and_terminal(kb):
    from nmbot.engine.resolver import Resolver

    card = card_for_resolution(kb, Resolver(kb).resolve("2004"))
    note = "Number Masking reports this code as -2004; a positive 2004 from SMS, chat apps or Number Lookup"
    assert note in card.note
    message = card_message(card)
    assert_within_limits(message)
    assert any(b["type"] == "context" and note in b["elements"][0]["text"] for b in message["blocks"])
    assert note in " ".join(render_card(card).split())
    plain = card_message(card_for_resolution(kb, Resolver(kb).resolve("-2004")))
    assert note not in json.dumps(plain)


# --- 8x8's word and our notes, told apart ------------------------------------------------------

EC_PAGE = "https://developer.8x8.com/connect/docs/voice/error-codes/number-masking-error-codes"


def card_texts(kb, code: int) -> dict[str, str]:
    """The card's sections by their first line (the meaning under its title)."""
    message = card_message(card_for_entry(kb, kb.get(code)))
    found = {}
    for raw in message["blocks"]:
        for text in [raw.get("text", {}).get("text", ""), *(f["text"] for f in raw.get("fields", ()))]:
            if text:
                found[text.split("\n", 1)[0]] = text
    return found


def test_a_card_with_both_kinds_labels_each_run_and_links_8x8s_page(kb):
    entry = kb.get(-2004)
    sections = card_texts(kb, -2004)
    steps = sections["*What to do*"].splitlines()
    first_8x8 = next(i for i, s in enumerate(entry.step_items) if s.from_8x8)
    first_ours = next(i for i, s in enumerate(entry.step_items) if not s.from_8x8)
    assert "_8x8 docs_" in steps and "_Our notes_" in steps
    # each label stands above its own items, in the file's order
    assert steps.index("_8x8 docs_") < steps.index(f"{first_8x8 + 1}. {escape(entry.steps[first_8x8])} "
                                                   f"(<{EC_PAGE}|Number masking error codes>)")
    assert steps.index("_Our notes_") < steps.index(f"{first_ours + 1}. {escape(entry.steps[first_ours])}")
    causes = sections["*Likely causes*"]
    assert "_8x8 docs_" in causes and "_Our notes_" in causes
    meaning = sections[f"*{entry.title}*"]
    assert meaning.splitlines()[1].startswith("_8x8 docs:_ ") and f"<{EC_PAGE}|" in meaning
    assert "only its message" not in meaning and sections["*Who can fix it*"]


def test_a_message_only_card_says_so_and_presents_our_notes_as_ours(kb):
    sections = card_texts(kb, -2006)
    meaning = sections[f"*{kb.get(-2006).title}*"]
    assert "_8x8 documents no cause and no fix for this code, only its message." in meaning
    assert "*Who can fix it* (our notes)" in sections and "*Who can fix it*" not in sections
    causes = sections["*Likely causes*"].splitlines()
    assert causes[1] == "_Our notes_" and "_8x8 docs_" not in causes


def test_a_card_without_sources_shows_everything_as_our_notes():
    card = Card(code=-7001, header="h", title="t", category="c", meaning="m", causes=("c",), steps=("s",), owner="o",
                owner_detail="d", escalate=("e",), related=(), docs="https://docs.8x8.com", footer="f")
    rendered = json.dumps(card_message(card))
    assert "_Our notes_" in rendered and "_Our notes:_ m" in rendered and "8x8 docs" not in rendered
