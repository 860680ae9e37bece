"""Loading, validating and merging knowledge-base files."""
from __future__ import annotations

import dataclasses

import pytest

from nmbot.engine.kb_files import configured_paths, load, load_files, shipped_paths
from nmbot.engine.knowledge import KnowledgeError, Sourced
from nmbot.engine.lint import OFFICIAL_MESSAGES
from nmbot.settings import Settings


def test_shipped_kb_has_every_official_code_with_its_exact_message(kb):
    assert {e.code: e.message for e in kb} == OFFICIAL_MESSAGES
    assert [e.code for e in kb][-1] == -9999  # numeric order, -9999 last


def test_every_shipped_entry_is_complete(kb):
    for e in kb:
        assert e.title and e.meaning and e.causes and e.steps and e.escalate and e.phrases
        assert e.owner in ("customer", "8x8", "both")
        assert e.docs.startswith("https://developer.8x8.com/")
        assert len(e.examples) >= 3
        assert e.code not in e.related and set(e.related) <= set(kb.codes)


def test_entries_are_immutable(kb):
    with pytest.raises(dataclasses.FrozenInstanceError):
        kb.entries[0].title = "changed"


def test_lookup_by_code(kb):
    assert kb.get(-2004).message == "No coverage available for requested area"
    assert kb.get(-2042) is None


def test_shipped_paths_point_at_the_packaged_files():
    paths = shipped_paths()
    assert [p.name for p in paths] == ["number-masking.yaml"]


def test_missing_field_names_file_entry_and_field(write_kb):
    path = write_kb()
    path.write_text(path.read_text().replace("    title: Team one\n", ""))
    with pytest.raises(KnowledgeError) as err:
        load_files([path])
    assert str(err.value) == f"{path}: entry -7001 (#1), field 'title': missing (a text is required)"


# The steps as the hand-made entry writes them.
STEPS = "steps: [{text: Check one thing., source: ours}, {text: Check another thing., source: ours}]"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("code: -7001", "code: 7001", "field 'code': must be a negative whole number such as -2004, got 7001"),
        ("code: -7001", "code: abc", "field 'code': must be a negative whole number such as -2004, got 'abc'"),
        ("owner: customer", "owner: nobody", "field 'owner': must be one of customer, 8x8, both, got 'nobody'"),
        ("docs: https://example.com/docs", "docs: see wiki", "field 'docs': must be an http(s) link"),
        (STEPS, "steps: Check it", "field 'steps': must be a list of texts, got str"),
        (STEPS, "steps: []", "field 'steps': is empty"),
        ("related: []", "related: [-1, x]", "field 'related': must be a negative whole number"),
        ("    related: []\n", "    related: []\n    colour: red\n", "unknown field(s) colour"),
    ],
)
def test_field_errors_are_specific(write_kb, old, new, expected):
    path = write_kb()
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(KnowledgeError) as err:
        load_files([path])
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text('version: "1"\nentries:\n  - code: -7001\n    message: [unclosed\n')
    with pytest.raises(KnowledgeError) as err:
        load_files([path])
    assert "is not valid YAML at line" in str(err.value)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "must be a mapping with 'version' and 'entries'"),
        (b"- just\n- a list\n", "must be a mapping with 'version' and 'entries'"),
        (b'version: "1"\n', "missing 'entries'"),
        (b"entries: []\n", "missing a 'version'"),
        (b'version: "1"\nentries:\n  - hello\n', "entry #1: must be a mapping of fields"),
        (b'\xff\xfe bad', "is not valid UTF-8 text"),
    ],
)
def test_bad_documents(tmp_path, content, expected):
    path = tmp_path / "kb.yaml"
    path.write_bytes(content)
    with pytest.raises(KnowledgeError) as err:
        load_files([path])
    assert expected in str(err.value)


def test_missing_file_and_empty_folder(tmp_path):
    with pytest.raises(KnowledgeError, match="no such file"):
        load_files([tmp_path / "nope.yaml"])
    with pytest.raises(KnowledgeError, match="folder holds no .yaml files"):
        load_files([tmp_path])


def test_several_files_merge_and_versions_combine(write_kb, kb):
    team = write_kb("team.yaml", version="7")
    merged = load_files([*shipped_paths(), team])
    assert len(merged) == len(kb) + 1
    assert merged.get(-7001).title == "Team one"
    assert merged.version == f"{kb.version} + team 7"


def test_the_same_code_twice_is_an_error_naming_both_files(write_kb, tmp_path):
    a = write_kb("a.yaml")
    b = write_kb("b.yaml")
    with pytest.raises(KnowledgeError) as err:
        load_files([a, b])
    assert "code -7001 is defined twice" in str(err.value) and str(a) in str(err.value) and str(b) in str(err.value)


def test_env_var_replaces_or_extends_the_shipped_files(write_kb):
    team = write_kb()
    assert configured_paths(str(team)) == [team]
    both = configured_paths(f"shipped:{team}")
    assert both == [*shipped_paths(), team]
    knowledge = Settings.from_env({"NMBOT_KNOWLEDGE": f"shipped:{team.parent}"}).knowledge
    assert load(knowledge=knowledge).get(-7001) is not None and load(knowledge=knowledge).get(-2004) is not None


def test_synonyms_merge_and_conflicts_are_reported(write_kb):
    a = write_kb("a.yaml", entries=[{"code": -7001, "message": "A", "title": "A", "phrases": "alpha thing"}],
                 extra="synonyms:\n  foo: bar\n")
    b = write_kb("b.yaml", entries=[{"code": -7002, "message": "B", "title": "B", "phrases": "beta thing"}],
                 extra="synonyms:\n  foo: baz\n")
    assert dict(load_files([a]).synonyms) == {"foo": "bar"}
    with pytest.raises(KnowledgeError, match="synonym 'foo' means 'baz' here but 'bar'"):
        load_files([a, b])


def test_unknown_top_level_key(write_kb):
    path = write_kb(extra="entrys: []\n")
    with pytest.raises(KnowledgeError, match="unknown top-level key"):
        load_files([path])


def cache_dir(env: dict) -> str:
    return Settings.from_env(env).cache_dir


def test_parse_cache_is_used_and_follows_edits(write_kb, tmp_path):
    cache = cache_dir({"NMBOT_CACHE_DIR": str(tmp_path / "cache")})
    path = write_kb()
    assert load_files([path], cache).get(-7001).title == "Team one"
    [cached] = (tmp_path / "cache").glob("kb-*.json")
    assert "Team one" in cached.read_text()
    path.write_text(path.read_text().replace("title: Team one", "title: Team one, edited"))
    assert load_files([path], cache).get(-7001).title == "Team one, edited"


def test_a_broken_or_unwritable_cache_only_costs_speed(write_kb, tmp_path):
    path = write_kb()
    cache = cache_dir({"NMBOT_CACHE_DIR": str(tmp_path / "cache")})
    load_files([path], cache)
    for cached in (tmp_path / "cache").glob("kb-*.json"):
        cached.write_text("{not json")
    assert load_files([path], cache).get(-7001) is not None
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    assert load_files([path], cache_dir({"NMBOT_CACHE_DIR": str(blocker / "cache")})).get(-7001) is not None
    assert load_files([path], cache_dir({"NMBOT_CACHE_DIR": ""})).get(-7001) is not None


def test_yaml_errors_are_never_cached(tmp_path):
    cache = cache_dir({"NMBOT_CACHE_DIR": str(tmp_path / "cache")})
    path = tmp_path / "broken.yaml"
    path.write_text("version: [\n")
    for _ in range(2):
        with pytest.raises(KnowledgeError, match="is not valid YAML"):
            load_files([path], cache)


# --- where each meaning, cause and step comes from ------------------------------------------

EC_PAGE = "https://developer.8x8.com/connect/docs/voice/error-codes/number-masking-error-codes"
# The codes 8x8 documents only by their message (its troubleshooting notes cover -2004, -2007, -2008, -2010).
MESSAGE_ONLY = {-2001, -2002, -2003, -2005, -2006, -2009, -9999}


def test_every_shipped_meaning_cause_and_step_names_its_source(kb):
    for e in kb:
        items = (*e.meaning_items, *e.cause_items, *e.step_items)
        assert all(i.stated for i in items), e.code
        assert all(i.page.startswith("https://developer.8x8.com/connect/") for i in items if i.from_8x8), e.code
        # The plain texts every other reader uses are the same texts.
        assert e.causes == tuple(i.text for i in e.cause_items) and e.steps == tuple(i.text for i in e.step_items)
        assert e.meaning == " ".join(i.text for i in e.meaning_items)


def test_shipped_kb_says_which_codes_8x8_documents_only_by_message(kb):
    assert {e.code for e in kb if e.message_only} == MESSAGE_ONLY
    for e in kb:
        # Where 8x8 gives nothing beyond the message, no cause may speak in 8x8's voice.
        if e.message_only:
            assert not any(c.from_8x8 for c in e.cause_items), e.code
    # 8x8's own troubleshooting notes are on its error code page, and cited from there.
    for code in (-2004, -2007, -2010):
        assert any(i.page == EC_PAGE for i in kb.get(code).step_items), code


def sourced_kb(write_kb, causes: str):
    path = write_kb()
    path.write_text(path.read_text().replace("causes: [{text: A cause., source: ours}]", causes))
    return path


def test_items_carry_their_source(write_kb):
    path = sourced_kb(write_kb, f"causes:\n      - text: 8x8 says so.\n        source: {EC_PAGE}\n"
                                "      - text: We found this.\n        source: ours\n")
    entry = load_files([path]).get(-7001)
    assert entry.cause_items == (Sourced("8x8 says so.", page=EC_PAGE), Sourced("We found this."))
    assert entry.causes == ("8x8 says so.", "We found this.")
    assert [c.from_8x8 for c in entry.cause_items] == [True, False]


def test_items_without_a_source_still_load_as_unstated(write_kb):
    """A team file written before sources existed keeps the bot running; `nmbot kb check` flags it."""
    path = write_kb()
    path.write_text(path.read_text().replace("meaning: [{text: Something went wrong., source: ours}]",
                                             "meaning: Something went wrong.")
                    .replace("causes: [{text: A cause., source: ours}]", "causes: [A cause.]"))
    entry = load_files([path]).get(-7001)
    assert entry.meaning_items == (Sourced("Something went wrong.", stated=False),)
    assert entry.cause_items == (Sourced("A cause.", stated=False),)
    assert not entry.cause_items[0].from_8x8


@pytest.mark.parametrize("causes, expected", [
    ("causes: [{text: A cause., source: 8x8}]", "field 'causes': item 1 has source '8x8': write `source: ours`"),
    ("causes: [{text: A cause., source: https://wiki.example.com/page}]", "an 8x8.com page"),
    ("causes: [{text: A cause., source: 'https://developer.8x8.com/a|b'}]", "an 8x8.com page"),
    ("causes: [{text: A cause., source: ours, page: x}]", "item 1 has unknown key(s) page; allowed: text, source"),
    ("causes: [{source: ours}]", "item 1 needs a non-empty `text:`"),
    ("causes: [A cause., 7]", "item 2 must be text, or `text:` with `source:`, got 7"),
])
def test_bad_sources_are_named(write_kb, causes, expected):
    with pytest.raises(KnowledgeError) as err:
        load_files([sourced_kb(write_kb, causes)])
    assert expected in str(err.value) and "entry -7001" in str(err.value)


def test_message_only_must_be_true_or_false(write_kb):
    path = write_kb()
    path.write_text(path.read_text().replace("    related: []\n", "    related: []\n    message_only: yes please\n"))
    with pytest.raises(KnowledgeError, match="field 'message_only': must be true or false"):
        load_files([path])
