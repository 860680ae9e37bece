"""Block Kit rendering: every card within Slack's limits, and nothing injectable."""
from __future__ import annotations

import itertools
import json
from dataclasses import replace
from urllib.parse import unquote

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from nmbot.cards import blocks
from nmbot.cards.blocks import VoteRef, WhyRef
from nmbot.cards.content import Card
from nmbot.cards.content import (LogItem, LogSummary, NotNumberMasking, OtherProduct, Suggestion, card_for_entry,
                               card_for_resolution, not_number_masking_for)
from nmbot.cards.terminal import render_card, render_not_number_masking
from nmbot.engine.knowledge import KnowledgeBase, Sourced
from nmbot.engine.scanner import Finding

OTHER_SMS = OtherProduct("2003", "SMS (8x8's Messaging API)", "SMS", "", "SMS errors are positive codes.",
                         "https://developer.8x8.com/connect/docs/api-error-codes", "Messaging API error codes", -2003)
INJECTION = "<!channel> <!here> <@U0ATTACK> <https://evil.example|click> & more"


def texts(message: dict) -> list[str]:
    """Every text a reader can see, fallback included."""
    found = [message["text"]]

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message["blocks"])
    return found


def assert_within_limits(message: dict) -> None:
    blocks.validate_message(message)
    assert message["text"].strip(), "a top-level fallback text is required"
    assert 0 < len(message["blocks"]) <= 50
    for raw in message["blocks"]:
        if raw["type"] == "header":
            assert len(raw["text"]["text"]) <= 150
        if raw["type"] == "section":
            assert len(raw.get("text", {}).get("text", "")) <= 3000
            assert all(len(f["text"]) <= 2000 for f in raw.get("fields", ()))


def test_every_entry_renders_a_valid_card(kb):
    for entry in kb:
        message = blocks.card_message(card_for_entry(kb, entry), share_button=True)
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
    message = blocks.card_message(card, share_button=True, share_thread_ts="1700000000.000100")
    actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == [blocks.OPEN_DOCS, blocks.SHARE_CARD]
    assert actions[0]["url"] == card.docs and actions[1]["value"] == "-2004@1700000000.000100"
    assert message["text"] == f"{card.header}: {card.title}"
    assert message["blocks"][-1]["type"] == "context"


def test_shared_card_says_who_shared_it_and_offers_no_share_button(kb):
    message = blocks.card_message(card_for_entry(kb, kb.get(-2004)), shared_by="U0PAT")
    assert "Shared by <@U0PAT>" in json.dumps(message["blocks"]) and "(shared by <@U0PAT>)" in message["text"]
    assert blocks.SHARE_CARD not in json.dumps(message)
    forged = blocks.card_message(card_for_entry(kb, kb.get(-2004)), shared_by="<!channel>")
    assert "<!channel>" not in json.dumps(forged)


def test_oversized_knowledge_text_is_cut_to_fit(kb):
    entry = kb.get(-2001)
    page = "https://developer.8x8.com/" + "p" * 500
    steps = tuple(Sourced("s" * 2900, page=page if i % 2 else "") for i in range(7))
    huge = replace(entry, message="m" * 400, title="t" * 300, meaning="x" * 5000, steps=tuple(s.text for s in steps),
                   meaning_items=(Sourced("x" * 5000, page=page), Sourced("y" * 5000)), step_items=steps,
                   escalate=("e" * 1000,) * 9, owner_detail="o" * 4000, related=tuple(range(-2100, -2000)))
    message = blocks.card_message(card_for_entry(kb, huge), share_button=True)
    assert_within_limits(message)
    assert message["blocks"][0]["text"]["text"].endswith("\u2026")
    assert "s" * 2000 in json.dumps(message)  # the long steps are there, cut to fit


def test_evidence_is_masked_escaped_and_fenced(kb):
    evidence = ("errorCode=-2004 callee=+6591234567 note=```<!channel>```",)
    message = blocks.card_message(card_for_entry(kb, kb.get(-2004), evidence=evidence))
    section = next(b for b in message["blocks"] if "Seen in your log" in json.dumps(b))
    text = section["text"]["text"]
    assert "6591234567" not in text and "\u2022\u202267" in text
    assert "&lt;!channel&gt;" in text and text.count("```") == 2
    assert section["text"]["verbatim"] is True


def test_evidence_full_of_markup_keeps_its_code_block_closed(kb):
    evidence = tuple("<" * 400 for _ in range(5))
    message = blocks.card_message(card_for_entry(kb, kb.get(-2004), evidence=evidence))
    assert_within_limits(message)
    section = next(b for b in message["blocks"] if "Seen in your log" in json.dumps(b))
    assert section["text"]["text"].endswith("```")


def test_escape():
    assert blocks.escape("a & b <c> <!here>") == "a &amp; b &lt;c&gt; &lt;!here&gt;"


@pytest.mark.parametrize("build", [
    lambda q: blocks.not_sure_message(q),
    lambda q: blocks.suggestions_message(q, [Suggestion(-2004, "No coverage", "Region")]),
    lambda q: blocks.no_codes_message([q], [q]),
    lambda q: blocks.with_notes(blocks.help_message(), [q]),
    lambda q: blocks.not_number_masking_message(q, NotNumberMasking((OTHER_SMS,), "why")),
])
def test_user_text_cannot_inject(build):
    message = build(INJECTION)
    assert_within_limits(message)
    for text in texts(message):
        for raw in ("<!channel>", "<!here>", "<@U0ATTACK>", "<https://evil"):
            assert raw not in text


def test_echoed_question_is_short_and_masked():
    message = blocks.not_sure_message("call +6591234567 " + "word " * 10_000)
    rendered = json.dumps(message)
    assert "6591234567" not in rendered and len(rendered) < 2000


def test_suggestions_are_buttons_that_open_cards():
    suggestions = [Suggestion(-2004, "No coverage available", "Region"), Suggestion(-2010, "Trunk", "Capacity")]
    message = blocks.suggestions_message("coverage?", suggestions, why="-2042 is not a code.")
    buttons = [b["accessory"] for b in message["blocks"] if "accessory" in b]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(f"{blocks.SUGGESTION}_-2004", "-2004"),
                                                               (f"{blocks.SUGGESTION}_-2010", "-2010")]
    assert message["text"] == "Did you mean -2004, -2010?"
    assert "-2042 is not a code." in json.dumps(message)


def test_help_and_catalog(kb):
    assert_within_limits(blocks.help_message())
    catalog = blocks.catalog_message(kb)
    assert_within_limits(catalog)
    assert all(f"`{e.code}`" in json.dumps(catalog) for e in kb)


def test_catalog_says_which_codes_8x8_documents_only_by_message(kb):
    text = "\n".join(texts(blocks.catalog_message(kb)))
    line = {e.code: next(x for x in text.splitlines() if x.startswith(f"`{e.code}`")) for e in kb}
    assert line[-2004].endswith("_8x8 docs and our notes_")
    assert line[-2005].endswith("_8x8 docs: message only; the rest is our notes_")
    assert "*8x8 docs* (8x8's documented guidance, its page linked)" in text and "*Our notes*" in text


def test_catalog_of_a_huge_knowledge_base_stays_within_50_blocks(kb):
    entries = tuple(replace(kb.get(-2001), code=-3000 - i, title="t" * 60, message="m" * 120) for i in range(2000))
    catalog = blocks.catalog_message(KnowledgeBase(entries, "big"))
    assert_within_limits(catalog)
    assert "and more" in json.dumps(catalog)


def item(code: int, known: bool = True, evidence: str = "errorCode=-2004") -> LogItem:
    return LogItem(code, known, 2, 7, evidence, "Title" if known else "Not in the knowledge base",
                   "Message" if known else "", "Do this first" if known else "")


def test_log_summary_is_compact_with_a_card_button_per_known_code():
    summary = LogSummary((item(-2004), item(-2099, known=False)), "nmbot knowledge base test")
    message = blocks.log_summary_message(summary)
    assert_within_limits(message)
    sections = [b for b in message["blocks"] if b["type"] == "section"]
    assert "found 2 Number Masking error codes" in sections[0]["text"]["text"]
    assert sections[1]["accessory"]["value"] == "-2004" and "accessory" not in sections[2]
    assert "2\u00d7, first on line 7" in sections[1]["text"]["text"]
    assert message["text"] == "Number Masking error codes found: -2004, -2099"


def test_log_summary_of_hundreds_of_codes_stays_within_limits():
    summary = LogSummary(tuple(item(-2100 - i, known=i % 2 == 0, evidence="e" * 1000) for i in range(300)), "f")
    message = blocks.log_summary_message(summary)
    assert_within_limits(message)
    assert "and 280 more" in json.dumps(message)


def test_log_summary_says_whose_first_step_it_is(kb):
    from nmbot.cards.content import log_summary

    findings = [Finding(-2005, True, 1, 1, "errorCode=-2005", kb.get(-2005)),
                Finding(-2001, True, 1, 2, "errorCode=-2001", kb.get(-2001))]
    sections = [b["text"]["text"] for b in blocks.log_summary_message(log_summary(kb, findings))["blocks"][1:3]]
    assert f"First step (8x8 docs): {kb.get(-2005).steps[0]}" in sections[0]  # 8x8's limit on `say` text
    assert f"First step (our notes): {kb.get(-2001).steps[0]}" in sections[1]


def test_log_summary_evidence_is_masked_and_escaped():
    message = blocks.log_summary_message(LogSummary((item(-2004, evidence=f"+6591234567 `{INJECTION}`"),), "f"))
    for text in texts(message):
        assert "6591234567" not in text and "<!channel>" not in text


def test_builder_url_previews_the_blocks(kb):
    message = blocks.card_message(card_for_entry(kb, kb.get(-2007)))
    url = blocks.builder_url(message)
    prefix = "https://app.slack.com/block-kit-builder/#"
    assert url.startswith(prefix)
    assert json.loads(unquote(url[len(prefix):])) == {"blocks": message["blocks"]}


def test_trouble_and_notice_messages():
    assert_within_limits(blocks.trouble_message())
    assert blocks.notice_message("a <b>")["blocks"][0]["text"]["text"] == "a &lt;b&gt;"


@pytest.mark.parametrize("message", [
    {"text": "", "blocks": [{"type": "divider"}]},
    {"text": "x", "blocks": [{"type": "divider"}] * 51},
    {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
    {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}]},
    {"text": "x", "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}]},
    {"text": "x", "blocks": [{"type": "no-such-block"}]},
])
def test_validate_message_refuses_what_slack_would(message):
    with pytest.raises((ValueError, SlackObjectFormationError)):
        blocks.validate_message(message)


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
    for (shared_by, share_button, thread_ts, voted, explained), entry in itertools.product(list(options), kb):
        for card, why in card_variants(kb, entry):
            kwargs = dict(shared_by=shared_by, share_button=share_button, share_thread_ts=thread_ts,
                          vote=VoteRef("card1", entry.code, "command", kb.version, "q") if voted else None,
                          why=why if explained else None)
            blocks._card_body.cache_clear()
            blocks._button_template.cache_clear()
            first = blocks.card_message(card, **kwargs)
            again = blocks.card_message(card, **kwargs)
            assert same_bytes(first, again)
            assert same_bytes(first, as_sdk_draws_it(first))  # the buttons built without the SDK included


def test_changing_a_card_message_does_not_change_the_next(kb):
    card = card_for_entry(kb, kb.get(-2004), why="The code -2004 appears in the question.")
    vote = VoteRef("card1", -2004, "command", kb.version)
    first = blocks.card_message(card, share_button=True, vote=vote)
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
    assert blocks.card_message(card, share_button=True, vote=vote) == expected


def test_each_card_carries_its_own_vote_and_why(kb):
    card = card_for_entry(kb, kb.get(-2004))

    def values(card_id: str, question: str) -> dict:
        message = blocks.card_message(card, share_button=True, vote=VoteRef(card_id, -2004, "command", kb.version),
                                      why=WhyRef(-2004, "code", "-2004", 100.0, question=question))
        actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
        return {a["action_id"]: a.get("value") for a in actions}

    one, two = values("card1", "-2004?"), values("card2", "what is -2004")
    assert VoteRef.decode(one[blocks.VOTE_UP]).card_id == VoteRef.decode(one[blocks.VOTE_DOWN]).card_id == "card1"
    assert VoteRef.decode(two[blocks.VOTE_UP]).card_id == VoteRef.decode(two[blocks.VOTE_DOWN]).card_id == "card2"
    assert WhyRef.decode(one[blocks.WHY]).question == "-2004?"
    assert WhyRef.decode(two[blocks.WHY]).question == "what is -2004"


def test_a_button_value_slack_would_refuse_is_refused(kb):
    with pytest.raises(SlackObjectFormationError):
        blocks.card_message(card_for_entry(kb, kb.get(-2004)), share_button=True, share_thread_ts="1" * 2000)


@pytest.mark.parametrize("why, evidence", [
    ("Found once in the log, first on line 1.", ("level=error errorCode=-2010 callee=+6591234567",)),
    ("Found 3 times <in> the log & more", ("`quoted` <@U123> @here", "x" * 5000, "second", "3", "4", "5", "6")),
    ("w" * 4000, ()),
    ("", ("only evidence",)),
])
def test_a_findings_own_blocks_are_what_the_sdk_draws(why, evidence):
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    from nmbot.cards.blocks import _context, _evidence_text, _finding_dicts, escape

    card = Card(code=-2010, header="h", title="t", category="c", meaning="m", causes=(), steps=("s",), owner="o",
                owner_detail="d", escalate=("e",), related=(), docs="https://docs.8x8.com", footer="f", why=why,
                evidence=evidence)
    evidence_section = SectionBlock(text=MarkdownTextObject(text=_evidence_text(evidence), verbatim=True))
    drawn = ([_context(escape(why)).to_dict()] if why else []) + ([evidence_section.to_dict()] if evidence else [])
    assert json.dumps(_finding_dicts(card)) == json.dumps(drawn)


# --- another product's code: no card, whose it is -----------------------------------------

def test_another_products_code_gets_a_short_reply_naming_it_with_its_docs(kb):
    from nmbot.engine.resolver import Resolver

    resolution = Resolver(kb).resolve("Viber 2010 on our chat campaign")
    reply = not_number_masking_for(resolution)
    assert card_for_resolution(kb, resolution) is None and reply is not None
    message = blocks.not_number_masking_message(resolution.query, reply)
    assert_within_limits(message)
    assert all(b["type"] != "header" for b in message["blocks"])  # not a card
    rendered = " ".join(texts(message))
    assert "`2010` is not a Number Masking error code" in rendered and "Viber" in rendered
    assert "\u201cUnauthorized IP or ID\u201d" in rendered and "/nmerror -2010" in rendered
    [button] = [b["accessory"] for b in message["blocks"] if "accessory" in b]
    assert (button["action_id"], button["url"]) == (blocks.OPEN_DOCS, "https://developer.8x8.com/connect")
    assert message["text"] == "2010 is not a Number Masking error code: most likely Viber's."


def test_several_products_each_get_a_line_and_one_docs_button(kb):
    from nmbot.engine.resolver import Resolver

    resolution = Resolver(kb).resolve("SMS status 2003 and Number Lookup 2004 and statusCode -1015")
    message = blocks.not_number_masking_message(resolution.query, not_number_masking_for(resolution))
    assert_within_limits(message)
    rendered = json.dumps(message, ensure_ascii=False)
    for part in ("`2003`", "`2004`", "`-1015`", "provider timeout", "voice-status-codes", "api-error-codes"):
        assert part in rendered
    assert sum("accessory" in b for b in message["blocks"]) == 1


def test_terminal_says_the_same(kb):
    from nmbot.engine.resolver import Resolver

    resolution = Resolver(kb).resolve("Number Lookup 2004")
    text = render_not_number_masking(not_number_masking_for(resolution))
    assert text.startswith("Not a Number Masking error code.")
    assert "2004: most likely from Number Lookup, where it means \u201cprovider timeout\u201d." in text
    assert "Docs: https://developer.8x8.com/connect" in text and "nmbot lookup -2004" in text


def test_a_card_for_a_sign_less_code_carries_the_note_in_slack_and_terminal(kb):
    from nmbot.engine.resolver import Resolver

    card = card_for_resolution(kb, Resolver(kb).resolve("2004"))
    note = "Number Masking reports this code as -2004; a positive 2004 from SMS, chat apps or Number Lookup"
    assert note in card.note
    message = blocks.card_message(card)
    assert_within_limits(message)
    assert any(b["type"] == "context" and note in b["elements"][0]["text"] for b in message["blocks"])
    assert note in " ".join(render_card(card).split())
    plain = blocks.card_message(card_for_resolution(kb, Resolver(kb).resolve("-2004")))
    assert note not in json.dumps(plain)


# --- 8x8's word and our notes, told apart ------------------------------------------------------

EC_PAGE = "https://developer.8x8.com/connect/docs/voice/error-codes/number-masking-error-codes"


def card_texts(kb, code: int) -> dict[str, str]:
    """The card's sections by their first line (the meaning under its title)."""
    message = blocks.card_message(card_for_entry(kb, kb.get(code)))
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
    assert steps.index("_8x8 docs_") < steps.index(f"{first_8x8 + 1}. {blocks.escape(entry.steps[first_8x8])} "
                                                 f"(<{EC_PAGE}|Number masking error codes>)")
    assert steps.index("_Our notes_") < steps.index(f"{first_ours + 1}. {blocks.escape(entry.steps[first_ours])}")
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
    rendered = json.dumps(blocks.card_message(card))
    assert "_Our notes_" in rendered and "_Our notes:_ m" in rendered and "8x8 docs" not in rendered
