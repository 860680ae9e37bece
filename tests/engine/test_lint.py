"""`nmbot kb check` rules, on hand-made knowledge bases."""
from __future__ import annotations

from bot.engine.lint import lint


def messages(problems):
    return [p.text for p in problems]


def test_shipped_kb_is_clean(kb):
    _, problems = lint(kb.sources)
    assert problems == []


def test_colliding_phrases_across_entries(write_kb):
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha", "title": "Alpha", "phrases": "widget capacity exceeded"},
        {"code": -7002, "message": "Beta", "title": "Beta", "phrases": "widget capacity exceded"},
    ])
    _, problems = lint([path])
    assert any("collides with" in m for m in messages(problems))


def test_examples_must_resolve_to_their_entry(write_kb):
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha", "title": "Alpha", "phrases": "widget capacity exceeded"},
        {"code": -7002, "message": "Beta", "title": "Beta", "phrases": "gadget voltage too high"},
    ])
    path.write_text(path.read_text().replace(
        "    phrases: [gadget voltage too high]\n",
        "    phrases: [gadget voltage too high]\n    examples: [our widget capacity is exceeded again]\n"))
    _, problems = lint([path])
    assert any("resolves to -7001" in m for m in messages(problems))


def test_official_message_drift_is_caught(tmp_path, kb):
    source = open(kb.sources[0], encoding="utf-8").read()
    drifted = tmp_path / "nm.yaml"
    drifted.write_text(source.replace("message: The trunk capacity has been exceeded", "message: Trunk capacity exceeded"))
    _, problems = lint([drifted])
    assert any("must be 8x8's exact text 'The trunk capacity has been exceeded'" in m for m in messages(problems))


def test_every_bad_entry_is_reported_not_just_the_first(write_kb):
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha", "title": "Alpha", "phrases": "alpha one"},
        {"code": -7002, "message": "Beta", "title": "Beta", "phrases": "beta two"},
    ])
    path.write_text(path.read_text().replace("owner: customer", "owner: someone"))
    _, problems = lint([path])
    assert sum("must be one of customer, 8x8, both" in m for m in messages(problems)) == 2


def test_an_item_without_a_source_is_refused_naming_entry_field_and_item(write_kb):
    path = write_kb()
    path.write_text(path.read_text()
                    .replace("meaning: [{text: Something went wrong., source: ours}]", "meaning: Something went wrong.")
                    .replace("steps: [{text: Check one thing., source: ours}, ", "steps: [Check one thing., "))
    _, problems = lint([path])
    found = [str(p) for p in problems]
    assert f"{path}: entry -7001, field 'meaning': the meaning \u201cSomething went wrong.\u201d has no source: " \
           "write `source: ours` for our own notes, or `source:` and the link of the 8x8 page that says it" in found
    assert any(p.startswith(f"{path}: entry -7001, field 'steps': item 1 \u201cCheck one thing.\u201d has no source")
               for p in found)
    assert not any("field 'causes'" in p or "item 2" in p for p in found)  # the sourced ones pass


def test_a_sourced_hand_made_entry_is_clean(write_kb):
    _, problems = lint([write_kb()])
    assert problems == []
