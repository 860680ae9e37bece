"""`nmbot kb check` rules, on hand-made knowledge bases."""
from __future__ import annotations

import pytest

from nmbot.engine.lint import lint


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


def two_entries_with_symptoms(write_kb, first: str, second: str):
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha", "title": "Alpha", "phrases": "widget capacity exceeded"},
        {"code": -7002, "message": "Beta", "title": "Beta", "phrases": "gadget voltage too high"},
    ])
    text = path.read_text()
    for phrases, symptoms in (("widget capacity exceeded", first), ("gadget voltage too high", second)):
        line = f"    phrases: [{phrases}]\n"
        text = text.replace(line, f"{line}    symptoms: [{symptoms}]\n")
    path.write_text(text)
    return path


def symptom_problems(path):
    _, problems = lint([path])
    return [m for p, m in zip(problems, messages(problems)) if "field 'symptoms'" in p.where]


def test_well_written_symptoms_pass(write_kb):
    path = two_entries_with_symptoms(write_kb, "the widget lamp never lights, the widget fan stops",
                                     "the gadget lamp never turns on, the gadget fan stopped")
    assert symptom_problems(path) == []


@pytest.mark.parametrize("symptom, expected", [
    ("The widget lamp blinks red", "must be lowercase"),
    ("the widget lamp blinks red.", "must not end with punctuation"),
    ("widget lamp", "must be 3 to 12 words"),
    ("the widget lamp blinks red and then it blinks green and then it goes out for good", "must be 3 to 12 words"),
    ("the widget lamp " + "blinks " * 9 + "red", "longer than 80 characters"),
    ("the and or", "has no word that says anything"),
])
def test_badly_written_symptoms_are_reported(write_kb, symptom, expected):
    path = two_entries_with_symptoms(write_kb, f"the widget fan stops, {symptom}", "the gadget lamp stays dark, the gadget fan hums")
    found = symptom_problems(path)
    assert any(symptom in m and expected in m for m in found), found


def test_symptom_count_is_bounded(write_kb):
    path = two_entries_with_symptoms(write_kb, "the widget fan stops", "the gadget lamp stays dark, the gadget fan hums")
    assert any("has 1 items; write 2 to 12" in m for m in symptom_problems(path))


def test_a_symptom_listed_twice_is_reported(write_kb):
    path = two_entries_with_symptoms(write_kb, "the widget fan stops, the widget fan stops",
                                     "the gadget lamp stays dark, the gadget fan hums")
    assert any("is listed twice" in m for m in symptom_problems(path))


def test_a_near_repeat_of_another_codes_symptom_is_reported(write_kb):
    path = two_entries_with_symptoms(write_kb, "the widget fan stops, the lamp never lights up",
                                     "the gadget fan hums, the lamp never light up")
    assert any("nearly repeats a symptom of -7001" in m for m in symptom_problems(path))


def test_an_identical_shared_symptom_is_allowed(write_kb):
    path = two_entries_with_symptoms(write_kb, "the widget fan stops, the lamp never lights up",
                                     "the gadget fan is broken, the lamp never lights up")
    assert symptom_problems(path) == []


def test_a_symptom_repeating_another_codes_phrase_is_reported(write_kb):
    path = two_entries_with_symptoms(write_kb, "the widget fan stops, the widget lamp blinks red",
                                     "the gadget fan hums, widget capacity exceeded")
    assert any("repeats a phrase of -7001" in m for m in symptom_problems(path))


def test_a_symptom_that_does_not_lead_to_its_code_is_reported(write_kb):
    # Matched in full, but a sentence of four words or more must say that something went wrong.
    path = two_entries_with_symptoms(write_kb, "the widget fan stops, the widget lamp never lights",
                                     "the gadget fan hums, the gadget lamp blinks red")
    assert any("the gadget lamp blinks red" in m and "must lead to -7002 on its own" in m
               and "does not say that anything went wrong" in m for m in symptom_problems(path))


def test_a_symptom_shared_by_too_many_codes_is_reported(write_kb):
    path = write_kb(entries=[
        {"code": code, "message": name, "title": name, "phrases": f"{name} part broken"}
        for code, name in ((-7001, "alpha"), (-7002, "beta"), (-7003, "gamma"), (-7004, "delta"))
    ])
    text = path.read_text()
    for name in ("alpha", "beta", "gamma", "delta"):
        line = f"    phrases: [{name} part broken]\n"
        text = text.replace(line, f"{line}    symptoms: [the {name} lamp blinks, the lamp never lights up]\n")
    path.write_text(text)
    assert any("is shared by 4 codes" in m for m in symptom_problems(path))


def test_checks_match_with_the_files_synonyms(write_kb):
    """An example that only resolves through a synonym passes, as it does in the bot."""
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha", "title": "Alpha", "phrases": "widget capacity exceeded"},
        {"code": -7002, "message": "Beta", "title": "Beta", "phrases": "gadget voltage too high"},
    ], extra="synonyms:\n  doohickey: widget\n  overrun: exceeded\n")
    path.write_text(path.read_text().replace(
        "    phrases: [widget capacity exceeded]\n",
        "    phrases: [widget capacity exceeded]\n    examples: [our doohickey capacity is overrun again]\n"))
    _, problems = lint([path])
    assert not [m for m in messages(problems) if "field 'examples'" in m or "doohickey" in m], messages(problems)


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
