"""`nmbot ask` and `nmbot lookup`: a question's answer, and one code's card."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from ...cards.content import card_for_entry, card_for_resolution, card_json, not_number_masking_for, suggestions_for
from ...cards.terminal import Style, render_card, render_not_number_masking, render_not_sure, render_suggestions
from ...engine.codes import codes_in_question, nearest_codes
from ...engine.knowledge import KnowledgeBase
from ...engine.products import read_codes
from ...engine.resolution import Match, Resolution, card_note
from ...engine.resolver import Resolver
from ..main import EXIT_NOTHING, EXIT_OK, CliError, emit, emit_json
from .shared import MAX_QUESTION_CHARS, load_kb, read_lines, style


def match_json(m: Match) -> dict:
    return {"code": m.code, "message": m.message, "score": float(m.score)}


def resolution_json(r: Resolution) -> dict:
    body = {
        "query": r.query,
        "answer": match_json(r.answer) if r.answer else None,
        "suggestions": [match_json(m) for m in r.suggestions if m.entry is not None],
    }
    # Only when there is something to say, so the plain answers read as they always have.
    if r.answer and r.note:
        body["note"] = r.note
    other = not_number_masking_for(r)
    if other is not None:
        body["other_products"] = [
            {"number": int(i.number) if i.number else None, "product": i.product, "meaning": i.meaning,
             "docs": i.docs, "lookalike": i.lookalike}
            for i in other.items
        ]
        body["reason"] = other.reason
    return body


def answer_json(kb: KnowledgeBase, r: Resolution) -> dict:
    """`resolution_json` with the answer's full card, each meaning, cause and step saying whose it is."""
    data = resolution_json(r)
    card = card_for_resolution(kb, r)
    if card is not None:
        data["answer"]["card"] = card_json(card)
    return data


def resolution_text(kb: KnowledgeBase, r: Resolution, s: Style) -> str:
    card = card_for_resolution(kb, r)
    if card is not None:
        return render_card(card, s)
    other = not_number_masking_for(r)
    if other is not None:
        return render_not_number_masking(other, s)
    suggestions = suggestions_for(r)
    if suggestions:
        return render_suggestions(r.query, suggestions, r.explain(), s)
    return render_not_sure(r.query, r.explain(), s)


def resolution_line(r: Resolution) -> str:
    """One line per question when answering standard input."""
    if r.answer:
        return f"{r.answer.code}\t{r.answer.message}"
    other = not_number_masking_for(r)
    if other is not None:
        return "x\tnot Number Masking: " + ", ".join(f"{i.number or 'message'} {i.named}" for i in other.items)
    if r.suggestions:
        return "?\tdid you mean " + ", ".join(str(m.code) for m in r.suggestions)
    return "-\tno answer"


def ask(args: argparse.Namespace) -> int:
    kb = load_kb()
    resolver = Resolver(kb)
    if args.text:
        result = resolver.resolve(" ".join(args.text)[:MAX_QUESTION_CHARS])
        if args.json:
            emit_json(answer_json(kb, result))
        else:
            emit(resolution_text(kb, result, style(args)))
        return EXIT_OK if result.answer else EXIT_NOTHING
    for question in read_lines(sys.stdin.buffer, "standard input"):
        result = resolver.resolve(question)
        emit_json(answer_json(kb, result)) if args.json else emit(resolution_line(result))
        sys.stdout.flush()
    return EXIT_OK


def lookup(args: argparse.Namespace) -> int:
    kb = load_kb()
    known, unknown = codes_in_question(args.code, kb.codes)
    if not known and not unknown:
        raise CliError(f"{args.code!r} is not an error code; try e.g. nmbot lookup -2004, or nmbot ask '{args.code}'")
    if not known:
        near = nearest_codes(unknown[0], kb.codes)
        hint = f"; did you mean {', '.join(map(str, near))}?" if near else ""
        print(f"nmbot: {unknown[0]} is not in the knowledge base{hint}", file=sys.stderr)
        return EXIT_NOTHING
    card = card_for_entry(kb, kb.get(known[0]))
    note = card_note(known[0], read_codes(args.code, kb.codes))  # '2004' typed without its sign
    if note:
        card = replace(card, note=note)
    if args.blocks:
        from ...cards.error_card import card_message
        from ...cards.kit import builder_url

        message = card_message(card)
        emit(json.dumps(message, indent=2, ensure_ascii=False))
        emit(f"\nPreview in Block Kit Builder:\n{builder_url(message)}")
    elif args.json:
        emit_json(card_json(card))
    else:
        emit(render_card(card, style(args)))
    return EXIT_OK
