"""Kinds of symptom question, and what tells them apart.

A sign other failures show too (a clue) never decides alone; what sounds like a code but is not
it (unlike) gets no card; two causes in one question leave it open; a part of a question that
says something works is a contrast, not a second cause. Dialling codes, identifiers in snake
case, failing "straight away" and zero durations are read for what they say, or for nothing.

The questions in data/symptom-kinds.yaml were written from the facts, a first batch before the
matcher was tuned for these kinds and a second after, scored once.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from nmbot.cards.feedback import why_message
from nmbot.engine.kb_files import load_files
from nmbot.engine.knowledge import KnowledgeError
from nmbot.engine.lint import lint
from nmbot.engine.places import COUNTRY, countries_as_words
from nmbot.engine.resolver import Resolver
from nmbot.engine.synonyms import Synonyms
from nmbot.engine.text import clauses, reports_a_problem, says_it_works
from nmbot.engine.times import times_as_words
from nmbot.replies.refs import WhyRef

QUESTIONS = yaml.safe_load((Path(__file__).parent / "data" / "symptom-kinds.yaml").read_text(encoding="utf-8"))
# As measured when each batch was scored: right answers (a card, or no card with the codes named
# offered) and wrong cards. The one wrong card of the first batch is a leak told with "caller ID"
# and no other sign of a leak, which reads word for word like -2008's own number as caller ID.
MEASURED = {"before": (48, 1), "after": (38, 0)}
FLOOR = 0.85  # of the right answers as measured
_WORD = re.compile(r"\w")  # a word character, as the patterns under test read one


@pytest.fixture(scope="module")
def resolver(kb):
    return Resolver(kb)


def outcome(resolver, item) -> tuple[bool, bool]:
    """(right, wrong card) for one question of the data file."""
    result = resolver.resolve(item["q"])
    got = result.answer.code if result.answer else None
    offered = {s.code for s in result.suggestions}
    right = got == item["expect"] and (got is not None or set(item.get("suggest", ())) <= offered)
    return right, got is not None and got != item["expect"]


@pytest.mark.parametrize("batch", MEASURED)
def test_each_batch_holds_its_figures(resolver, batch):
    items = [i for i in QUESTIONS if i["batch"] == batch]
    outcomes = [outcome(resolver, i) for i in items]
    right, wrong = sum(r for r, _ in outcomes), sum(w for _, w in outcomes)
    measured_right, measured_wrong = MEASURED[batch]
    assert wrong <= measured_wrong
    assert right >= FLOOR * measured_right


@pytest.mark.parametrize("item", [i for i in QUESTIONS if i["kind"] in ("inbound-only", "two-causes", "ambiguous")],
                         ids=lambda i: i["q"][:50])
def test_questions_that_must_stay_open_get_no_card(resolver, item):
    result = resolver.resolve(item["q"])
    assert result.answer is None, result.explain()


# --- clues -------------------------------------------------------------------------------------
def with_field(path, phrases: str, name: str, items: str):
    """Add a `name:` list to the hand-made entry whose phrases are `phrases`."""
    text = path.read_text()
    line = f"    phrases: [{phrases}]\n"
    assert line in text
    path.write_text(text.replace(line, f"{line}    {name}: [{items}]\n"))
    return path


@pytest.fixture
def lamps(write_kb):
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha", "title": "Alpha", "phrases": "widget capacity exceeded"},
        {"code": -7002, "message": "Beta", "title": "Beta", "phrases": "gadget voltage too high"},
    ])
    with_field(path, "widget capacity exceeded", "symptoms", "the fan spins backwards, the belt squeaks loudly")
    with_field(path, "widget capacity exceeded", "clues", "the lamp never lights up")
    with_field(path, "gadget voltage too high", "symptoms", "the fuse melts away")
    with_field(path, "gadget voltage too high", "unlike", "the lamp is bright but blue")
    return Resolver(load_files([path]))


def test_a_clue_alone_offers_its_code_and_never_answers(lamps):
    result = lamps.resolve("our lamp never lights up at all")
    assert result.answer is None and [s.code for s in result.suggestions][:1] == [-7001]
    assert result.explain() == ("\u201cthe lamp never lights up\u201d is a sign of -7001 that other failures show "
                                "too (score 100); what else you see decides.")


def test_a_clue_with_the_rest_pointing_at_its_code_answers(lamps):
    result = lamps.resolve("the lamp never lights up and the fan spins backwards")
    assert result.answer is not None and result.answer.code == -7001, result.explain()
    assert result.shared[0].field == "clue"
    assert result.explain().startswith("\u201cthe lamp never lights up\u201d is a sign of -7001 that other failures")


def test_a_clue_is_no_second_cause(lamps):
    """The answer's code may well show the clue too."""
    result = lamps.resolve("the lamp never lights up and the fuse melts away")
    assert result.answer is not None and result.answer.code == -7002, result.explain()


def test_a_clue_with_the_rest_pointing_elsewhere_stays_open(resolver):
    result = resolver.resolve("callA ERROR with no callB ever since our webhook host was migrated")
    assert result.answer is None and -2004 in {s.code for s in result.suggestions}, result.explain()


def test_shipped_inbound_leg_failure_is_a_clue_of_coverage(resolver):
    alone = resolver.resolve("sessionStatus ERROR, callA ERROR and no callB")
    assert alone.answer is None and -2004 in {s.code for s in alone.suggestions}
    assert "is a sign of -2004 that other failures show too" in alone.explain()
    decided = resolver.resolve("callA ERROR and no callB, only for callers from Kenya, other countries are fine")
    assert decided.answer is not None and decided.answer.code == -2004, decided.explain()


def test_why_card_names_a_clue_set_aside(resolver, kb):
    result = resolver.resolve("callA ERROR and no callB, only for callers from Kenya, other countries are fine")
    why = WhyRef.for_resolution(result)
    assert why.shared == "calla in error and no callb"
    shown = str(why_message(why, kb))
    assert "*Set aside*: the symptom \u201ccalla in error and no callb\u201d, which alone does not tell" in shown


def test_every_shipped_clue_leaves_the_question_open(resolver, kb):
    clues = [(e.code, c) for e in kb for c in e.clues]
    assert clues
    for code, clue in clues:
        result = resolver.resolve(clue)
        assert result.answer is None and code in {s.code for s in result.suggestions}, clue


# --- unlike ------------------------------------------------------------------------------------
def test_what_a_code_is_not_gets_no_card_and_does_not_offer_it(lamps):
    result = lamps.resolve("our lamp is bright but blue, it is broken")
    assert result.answer is None and result.ruled_out is not None and result.ruled_out.code == -7002
    assert -7002 not in {s.code for s in result.suggestions}
    assert result.explain() == (f"The question reads most like \u201cthe lamp is bright but blue\u201d (score "
                                f"{result.ruled_out.score:.0f}), which the knowledge base says is not -7002.")


@pytest.mark.parametrize("question", [
    "the callee sees the caller's real number instead of the virtual number, is masking broken?",
    "calls connect but the receiving side sees the personal number of the caller, it isn't masked",
])
def test_a_masking_leak_is_not_a_caller_id_refused(resolver, question):
    result = resolver.resolve(question)
    assert result.answer is None, result.explain()
    assert result.ruled_out is not None and result.ruled_out.code == -2008


def test_the_real_number_set_as_source_still_is_2008(resolver):
    result = resolver.resolve("we set the customer's real number as the source in makeCall and now calls fail")
    assert result.answer is not None and result.answer.code == -2008, result.explain()


# --- two causes and contrasts ------------------------------------------------------------------
def test_two_causes_in_one_question_leave_it_open_with_both_offered(lamps):
    result = lamps.resolve("the fan spins backwards and the belt squeaks loudly, and the fuse melts away: all broke")
    assert result.answer is None and {-7001, -7002} <= {s.code for s in result.suggestions}
    assert result.second_cause is not None
    assert result.explain().startswith("The question points at two codes: ")


def test_a_part_that_says_it_works_is_no_second_cause(lamps):
    result = lamps.resolve("the fan spins backwards and is broken, the fuse is fine and works")
    assert result.answer is not None and result.answer.code == -7001, result.explain()


@pytest.mark.parametrize("question, codes", [
    ("our hold music never plays, and calls to Kenya fail too", {-2006, -2004}),
    ("calls with our new caller ID fail and at the evening peak others are refused as well", {-2008, -2010}),
])
def test_shipped_two_causes(resolver, question, codes):
    result = resolver.resolve(question)
    assert result.answer is None and codes <= {s.code for s in result.suggestions}, result.explain()


def test_shipped_contrast_keeps_its_answer(resolver):
    result = resolver.resolve("the session dies at the say step; the playFile version of the same prompt works")
    assert result.answer is not None and result.answer.code == -2005, result.explain()


@pytest.mark.parametrize("text, parts", [
    ("calls fail, SG is fine", ["calls fail", " SG is fine"]),
    ("the say step fails but the playFile works", ["the say step fails ", " the playFile works"]),
    ("Brandon and Andy", ["Brandon ", " Andy"]),
    ("sandbox", ["sandbox"]),
])
def test_clauses_split_at_punctuation_and_joining_words(text, parts):
    assert clauses(text) == parts


@pytest.mark.parametrize("clause, works", [
    ("the playFile version works", True), ("SG connects fine", True), ("it is not working", False),
    ("it works but fails at peak", False), ("calls to Kenya", False),
])
def test_a_clause_says_it_works_only_without_a_problem_word(clause, works):
    assert says_it_works(clause) is works


_BREAK_WORDS = ("but", "while", "whereas", "though", "although", "and", "also")


def clauses_by_hand(text: str) -> list[str]:
    """Cut at each break character and each break word standing alone (no word character either side)."""
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] in ".;,!?()\n":
            parts.append(text[start:i])
            start = i = i + 1
            continue
        hit = next((w for w in _BREAK_WORDS if text[i : i + len(w)].lower() == w
                    and not (i > 0 and _WORD.match(text[i - 1]))
                    and not _WORD.match(text[i + len(w) : i + len(w) + 1] or " ")), None)
        if hit is not None:
            parts.append(text[start:i])
            start = i = i + len(hit)
            continue
        i += 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


@given(st.lists(st.sampled_from(["and", "but", "AND", "also", "x", "band", "s", " ", ",", ".", "(", "\u00e9", "_",
                                 "1", "while", "though", "alt"]), max_size=12).map("".join))
def test_property_clauses_agree_with_a_reading_by_hand(text):
    assert clauses(text) == clauses_by_hand(text)


@given(st.lists(st.sampled_from(["and", "but", " ", ",", "x", "works", "fine"]), min_size=1, max_size=4),
       st.integers(min_value=200, max_value=5000))
def test_property_clauses_of_long_lines_take_linear_time(fragments, times):
    line = "".join(fragments) * times
    started = time.perf_counter()
    for part in clauses(line):
        says_it_works(part)
    assert time.perf_counter() - started < 2.0


# --- dialling codes ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("tourists (+44, +61) fail", f"tourists ( {COUNTRY} ,  {COUNTRY} ) fail"),
    ("+84 numbers fail", f" {COUNTRY}  numbers fail"),
])
def test_a_dialling_code_standing_alone_is_a_country(text, expected):
    assert countries_as_words(text) == expected


@pytest.mark.parametrize("text", ["+6591234567", "the old +65 6xxx number", "call +1-555-0100", "a+44", "+44a",
                                  "++44", "+1234", "c++ 11"])
def test_a_phone_number_or_a_plus_in_a_word_is_no_country(text):
    assert COUNTRY not in countries_as_words(text).split()


def dialling_codes_by_hand(text: str) -> str:
    """A "+" not after a word character or "+", then 1 to 3 digits that end the run of word characters
    (no further "+"), not followed by a digit or x, after an optional space or hyphen."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "+" and not (i > 0 and (_WORD.match(text[i - 1]) or text[i - 1] == "+")):
            j = i + 1
            while j < len(text) and j - i <= 3 and text[j].isdecimal():
                j += 1
            digits = j - i - 1
            after = text[j : j + 1]
            if 1 <= digits <= 3 and not (after and (_WORD.match(after) or after == "+")):
                rest = text[j + 1 : j + 2] if after in (" ", "-") else after
                if not (rest and (rest.isdecimal() or rest in "xX")):
                    out.append(f" {COUNTRY} ")
                    i = j
                    continue
        out.append(text[i])
        i += 1
    return "".join(out)


@given(st.lists(st.sampled_from(["+", "4", "44", "6591", " ", "-", "x", "a", "(", ",", "\u0663", "_"]),
                max_size=10).map("".join))
def test_property_dialling_codes_agree_with_a_reading_by_hand(text):
    assert countries_as_words(text) == dialling_codes_by_hand(text).lower()  # nothing else here names a country


@given(st.lists(st.sampled_from(["+", "44", "1", " ", "-", "x", "+4"]), min_size=1, max_size=4),
       st.integers(min_value=200, max_value=5000))
def test_property_dialling_codes_in_long_lines_take_linear_time(fragments, times):
    line = "".join(fragments) * times
    started = time.perf_counter()
    countries_as_words(line)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("text, expected", [
    ("Japanese customers cannot call", f"{COUNTRY} customers cannot call"),
    ("calls to German numbers fail", f"calls to {COUNTRY} numbers fail"),
    ("our thai text is never spoken", "our thai text is never spoken"),  # a language: text to speech
    ("the french prompt and french", "the french prompt and french"),
])
def test_a_language_names_a_country_before_people_or_numbers(text, expected):
    assert countries_as_words(text) == expected


@given(st.lists(st.sampled_from(["thai", "japanese", " ", "customers", "text", "numbers", "x", "-"]), min_size=1,
                max_size=4), st.integers(min_value=200, max_value=5000))
def test_property_languages_in_long_lines_take_linear_time(fragments, times):
    line = "".join(fragments) * times
    started = time.perf_counter()
    countries_as_words(line)
    assert time.perf_counter() - started < 2.0


# --- identifiers in snake case -----------------------------------------------------------------
def test_an_identifier_in_snake_case_is_the_word_it_joins_to(kb):
    synonyms = Synonyms(kb.synonyms)
    vocabulary = {"makecall": 1.0, "playfile": 1.0}
    assert synonyms.apply("renamed to make_call", vocabulary) == "changed the name of to makecall"
    assert synonyms.apply("play_file and some_thing", vocabulary) == "playfile and some_thing"
    assert synonyms.apply("make_call") == "make_call"  # only against a vocabulary


def snake_case_by_hand(text: str, vocabulary: set[str]) -> str:
    """Runs of [a-z0-9_] holding letters or digits on both sides of each underscore are cut into identifiers."""
    out, i = [], 0
    while i < len(text):
        if re.match(r"[a-z0-9]", text[i]) and not (i > 0 and re.match(r"[a-z0-9_]", text[i - 1])):
            j = i
            while j < len(text) and re.match(r"[a-z0-9_]", text[j]):
                j += 1
            run = text[i:j]
            # The longest stretch from i that is alphanumerics joined by single underscores, ending on an alphanumeric.
            m = re.match(r"[a-z0-9]+(?:_[a-z0-9]+)*", run)
            ident = m.group(0)
            if "_" in ident:
                joined = ident.replace("_", "")
                out.append(joined if joined in vocabulary else ident)
                i += len(ident)
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


@given(st.lists(st.sampled_from(["make", "call", "_", "__", "x", "1", " ", ".", "\u00e9", "play", "file"]),
                max_size=10).map("".join))
def test_property_snake_case_agrees_with_a_reading_by_hand(text):
    vocabulary = {"makecall": 1.0, "playfile": 1.0, "x1": 1.0}
    synonyms = Synonyms([("qq", "zz")])  # a synonym that never occurs here: only identifiers change
    assert synonyms.apply(text, vocabulary) == snake_case_by_hand(text, set(vocabulary))


@given(st.lists(st.sampled_from(["a", "_", "1", " ", "ab_", "_a"]), min_size=1, max_size=4),
       st.integers(min_value=200, max_value=5000))
def test_property_snake_case_in_long_lines_takes_linear_time(fragments, times):
    line = "".join(fragments) * times
    started = time.perf_counter()
    Synonyms([("x y", "z")]).apply(line, {"makecall": 1.0})
    assert time.perf_counter() - started < 2.0


# --- failing straight away, and zero durations -------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("it fails immediately every time", "it fails every time"),
    ("errors out straight away", "errors out"),
    ("get cut off at once", "get cut off"),
    ("Dies instantly", "Dies"),
    ("calls placed right away work", "calls placed right away work"),  # a request used in time, not a failure
    ("many calls at once", "many calls at once"),
])
def test_failing_straight_away_is_read_as_failing(text, expected):
    assert times_as_words(text) == expected


@pytest.mark.parametrize("text", ["callDuration: 0", "\"callDuration\": 0,", "duration 0", "0s duration",
                                  "zero duration"])
def test_a_zero_duration_says_something_failed(text):
    assert reports_a_problem(text)


@pytest.mark.parametrize("text", ["duration 10", "duration 05:00", "durations", "0 calls"])
def test_other_durations_say_nothing_failed(text):
    assert not reports_a_problem(text)


_VERBS = ("fail fails failed failing error errors errored erroring die dies died dying drop drops dropped dropping "
          "end ends ended cut cuts disconnect disconnects disconnected rejected refused").split() + ["hangs up",
                                                                                                   "hung up"]
_AT_ONCE = ("right away", "straight away", "immediately", "instantly", "at once", "right there")


def at_once_by_hand(text: str) -> str:
    """A failure verb standing alone, " out" or " off" maybe, a space and a word for "at once": the verb stays."""
    out, i = [], 0
    lowered = text.lower()
    while i < len(text):
        hit = None if i > 0 and _WORD.match(text[i - 1]) else _at_once_at(lowered, i)
        if hit is None:
            out.append(text[i])
            i += 1
        else:
            out.append(text[i : hit[0]])
            i = hit[1]
    return "".join(out)


def _at_once_at(lowered: str, i: int) -> tuple[int, int] | None:
    """(where the kept verb ends, where the words for "at once" end) for a match starting at i."""
    for verb in _VERBS:
        j = i + len(verb)
        if not lowered.startswith(verb, i):
            continue
        for tail in (" out", " off", ""):
            k = j + len(tail)
            if not lowered.startswith(tail, j):
                continue
            for when in _AT_ONCE:
                end = k + 1 + len(when)
                if lowered.startswith(" " + when, k) and not _WORD.match(lowered[end : end + 1] or " "):
                    return k, end
    return None


@given(st.lists(st.sampled_from(["fail", "fails", "s", " ", "out", " off", "right", " away", "at once", "x",
                                 "immediately", "FAILED", "cut", "drop", "_", "ed"]), max_size=10).map("".join))
def test_property_failing_straight_away_agrees_with_a_reading_by_hand(text):
    assert times_as_words(text) == at_once_by_hand(text)


@given(st.lists(st.sampled_from(["fail", "s", " ", "out", "immediately", "at", " once", "x"]), min_size=1,
                max_size=4), st.integers(min_value=200, max_value=5000))
def test_property_failing_straight_away_in_long_lines_takes_linear_time(fragments, times):
    line = "".join(fragments) * times
    started = time.perf_counter()
    times_as_words(line)
    assert time.perf_counter() - started < 2.0


def zero_duration_by_hand(text: str) -> bool:
    """ "duration", up to 4 characters that are not word characters, and 0 or "zero" standing alone; or 0 or
    "zero" standing alone, maybe a space and a unit, and "duration"."""
    lowered = text.lower()
    for i in range(len(lowered)):
        if lowered.startswith("duration", i):
            j = i + len("duration")
            for gap in range(5):
                if gap and (j + gap > len(lowered) or _WORD.match(lowered[j + gap - 1])):
                    break
                for zero in ("0", "zero"):
                    end = j + gap + len(zero)
                    if lowered.startswith(zero, j + gap) and not _WORD.match(lowered[end : end + 1] or " "):
                        return True
        if not (i > 0 and _WORD.match(lowered[i - 1])):
            for zero in ("0", "zero"):
                after = i + len(zero)
                if lowered.startswith(zero, i) and any(lowered.startswith(space + unit + "duration", after)
                                                       for space in ("", " ")
                                                       for unit in ("", "s ", "sec ", "seconds ")):
                    return True
    return False


@given(st.lists(st.sampled_from(["duration", "0", "zero", " ", ": ", "\"", "s ", "1", "x", "_"]), max_size=8)
       .map("".join))
def test_property_zero_durations_agree_with_a_reading_by_hand(text):
    assert reports_a_problem(text) == zero_duration_by_hand(text)  # no other word here says something failed


# --- the knowledge base ------------------------------------------------------------------------
def test_clues_and_unlike_must_be_lists_of_texts(write_kb):
    path = write_kb()
    entry = load_files([path]).get(-7001)
    assert entry.clues == () and entry.unlike == ()
    path.write_text(path.read_text().replace("    phrases: [team widget broken]\n",
                                             "    phrases: [team widget broken]\n    clues: the lamp is off\n"))
    with pytest.raises(KnowledgeError) as err:
        load_files([path])
    assert "field 'clues': must be a list of texts, got str" in str(err.value)


def test_lint_refuses_a_clue_that_answers_and_an_unlike_that_does_not_rule_out(write_kb):
    path = write_kb(entries=[
        {"code": -7001, "message": "Alpha", "title": "Alpha", "phrases": "widget capacity exceeded"},
        {"code": -7002, "message": "Beta", "title": "Beta", "phrases": "gadget voltage too high"},
    ])
    with_field(path, "widget capacity exceeded", "symptoms", "the belt breaks loudly, the fan spins backwards")
    with_field(path, "widget capacity exceeded", "clues", "the belt breaks loudly again, Badly Written")
    with_field(path, "gadget voltage too high", "unlike", "gadget voltage is too high")
    _, problems = lint([path])
    texts = [p.text for p in problems]
    assert any("must be lowercase" in t for t in texts)
    assert any("a clue must leave the question open and offer -7001" in t for t in texts)
    assert any("it must read as what it is not, and get no card" in t for t in texts)
