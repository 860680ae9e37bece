"""One knowledge-base YAML document, read into entries: every field checked, each problem named."""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlsplit

from .knowledge import Entry, KnowledgeError, Sourced

OWNERS = ("customer", "8x8", "both")
OURS = "ours"  # the `source:` of an item that is our own troubleshooting notes


# --- field readers: each returns a clean value or raises with the field named ---

def _text(raw: Mapping[str, Any], name: str, where: dict, *, required: bool = True) -> str:
    value = raw.get(name)
    if value is None:
        if required:
            raise KnowledgeError(problem="missing (a text is required)", field_name=name, **where)
        return ""
    if not isinstance(value, str):
        raise KnowledgeError(problem=f"must be text, got {type(value).__name__}", field_name=name, **where)
    value = " ".join(value.split()) if "\n" not in value.strip() else value.strip()
    if required and not value:
        raise KnowledgeError(problem="is empty", field_name=name, **where)
    return value


def _texts(raw: Mapping[str, Any], name: str, where: dict, *, required: bool = True) -> tuple[str, ...]:
    value = raw.get(name)
    if value is None:
        if required:
            raise KnowledgeError(problem="missing (a list of texts is required)", field_name=name, **where)
        return ()
    if isinstance(value, str) or not isinstance(value, list):
        raise KnowledgeError(problem=f"must be a list of texts, got {type(value).__name__}", field_name=name, **where)
    items = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, str) or not item.strip():
            raise KnowledgeError(problem=f"item {i} must be non-empty text, got {item!r}", field_name=name, **where)
        items.append(" ".join(item.split()))
    if required and not items:
        raise KnowledgeError(problem="is empty (at least one item is required)", field_name=name, **where)
    return tuple(items)


def _code(value: Any, name: str, where: dict) -> int:
    if isinstance(value, bool):
        raise KnowledgeError(problem=f"must be a negative whole number such as -2004, got {value!r}", field_name=name, **where)
    if isinstance(value, str):
        try:
            value = int(value.strip().replace("\u2212", "-"))
        except ValueError:
            raise KnowledgeError(problem=f"must be a negative whole number such as -2004, got {value!r}", field_name=name, **where) from None
    if not isinstance(value, int) or value >= 0:
        raise KnowledgeError(problem=f"must be a negative whole number such as -2004, got {value!r}", field_name=name, **where)
    return value


def _codes(raw: Mapping[str, Any], name: str, where: dict) -> tuple[int, ...]:
    value = raw.get(name)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise KnowledgeError(problem=f"must be a list of codes, got {type(value).__name__}", field_name=name, **where)
    return tuple(_code(v, name, where) for v in value)


def _is_8x8_page(link: str) -> bool:
    # Cards draw the page as a Slack link, which a space, `|`, `<` or `>` would break.
    if any(c.isspace() or c in '<>|"' for c in link):
        return False
    try:
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and (host == "8x8.com" or host.endswith(".8x8.com"))


SOURCE_HELP = f"write `source: {OURS}` for our own notes, or `source:` and the link of the 8x8 page that says it"


def _sourced(value: Any, name: str, where: dict, position: str) -> Sourced:
    """One item: plain text (no source given, so shown as ours) or a mapping of `text` and `source`."""
    if isinstance(value, str) and value.strip():
        return Sourced(" ".join(value.split()), stated=False)
    if not isinstance(value, dict):
        raise KnowledgeError(problem=f"{position} must be text, or `text:` with `source:`, got {value!r}",
                             field_name=name, **where)
    unknown = sorted(set(map(str, value)) - {"text", "source"})
    if unknown:
        raise KnowledgeError(problem=f"{position} has unknown key(s) {', '.join(unknown)}; allowed: text, source",
                             field_name=name, **where)
    text = value.get("text")
    if not isinstance(text, str) or not text.strip():
        raise KnowledgeError(problem=f"{position} needs a non-empty `text:`", field_name=name, **where)
    text = " ".join(text.split())
    source = value.get("source")
    if source is None:
        return Sourced(text, stated=False)
    source = source.strip() if isinstance(source, str) else source
    if source == OURS:
        return Sourced(text)
    if isinstance(source, str) and _is_8x8_page(source):
        return Sourced(text, page=source)
    raise KnowledgeError(problem=f"{position} has source {source!r}: {SOURCE_HELP} (an 8x8.com page)",
                         field_name=name, **where)


def _sourced_list(raw: Mapping[str, Any], name: str, where: dict,
                  found: list[KnowledgeError] | None = None) -> tuple[Sourced, ...]:
    """The field's items. A problem with the field raises; a bad item raises too, or, with `found`, is
    added there with every other bad item and left out."""
    value = raw.get(name)
    if value is None:
        raise KnowledgeError(problem="missing (a list of items is required)", field_name=name, **where)
    if not isinstance(value, list):
        raise KnowledgeError(problem=f"must be a list of texts, got {type(value).__name__}", field_name=name, **where)
    if not value:
        raise KnowledgeError(problem="is empty (at least one item is required)", field_name=name, **where)
    items = []
    for i, item in enumerate(value, 1):
        try:
            items.append(_sourced(item, name, where, f"item {i}"))
        except KnowledgeError as exc:
            if found is None:
                raise
            found.append(exc)
    return tuple(items)


def _meaning(raw: Mapping[str, Any], where: dict, found: list[KnowledgeError] | None = None) -> tuple[Sourced, ...]:
    """The meaning: one text or item, or a list of them when 8x8's word and ours both belong in it."""
    value = raw.get("meaning")
    if isinstance(value, list):
        return _sourced_list(raw, "meaning", where, found)
    if isinstance(value, dict):
        return (_sourced(value, "meaning", where, "the meaning"),)
    return (Sourced(_text(raw, "meaning", where), stated=False),)


def _flag(raw: Mapping[str, Any], name: str, where: dict) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        raise KnowledgeError(problem=f"must be true or false, got {value!r}", field_name=name, **where)
    return value


KNOWN_FIELDS = frozenset(
    "code message title category meaning causes steps owner owner_detail escalate related docs phrases examples"
    " message_only symptoms clues unlike".split()
)


def parse_entry(raw: Any, source: str, index: int, errors: list[KnowledgeError] | None = None) -> Entry | None:
    """One entry, every field checked even after a bad one. The first problem raises; with `errors`, every
    problem is added there instead and None returned, so `nmbot kb check` lists them all in one run."""
    where: dict = {"source": source, "entry": f"#{index}"}
    found: list[KnowledgeError] = []

    def read(reader, *args):
        try:
            return reader(*args)
        except KnowledgeError as exc:
            found.append(exc)
            return None

    if not isinstance(raw, dict):
        found.append(KnowledgeError(problem=f"must be a mapping of fields, got {type(raw).__name__}", **where))
        return _problems_found(found, errors)
    if "code" not in raw:
        found.append(KnowledgeError(problem="missing (every entry needs its error code)", field_name="code", **where))
        code = None
    else:
        code = read(_code, raw["code"], "code", where)
    if code is not None:
        where["entry"] = f"{code} (#{index})"
    unknown = sorted(set(map(str, raw)) - KNOWN_FIELDS)
    if unknown:
        found.append(KnowledgeError(
            problem=f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KNOWN_FIELDS))}", **where
        ))
    owner = read(_text, raw, "owner", where)
    if owner is not None and owner not in OWNERS:
        found.append(KnowledgeError(problem=f"must be one of {', '.join(OWNERS)}, got {owner!r}", field_name="owner",
                                    **where))
    docs = read(_text, raw, "docs", where)
    if docs is not None and not docs.startswith(("https://", "http://")):
        found.append(KnowledgeError(problem=f"must be an http(s) link, got {docs!r}", field_name="docs", **where))
    meaning = read(_meaning, raw, where, found)
    causes = read(_sourced_list, raw, "causes", where, found)
    steps = read(_sourced_list, raw, "steps", where, found)
    texts = {name: read(_text, raw, name, where) for name in ("message", "title", "category", "owner_detail")}
    escalate = read(_texts, raw, "escalate", where)
    related = read(_codes, raw, "related", where)
    phrases = read(_texts, raw, "phrases", where)
    optional = {name: read(_optional_texts, raw, name, where) for name in ("examples", "symptoms", "clues", "unlike")}
    message_only = read(_flag, raw, "message_only", where)
    if found:
        return _problems_found(found, errors)
    return Entry(
        code=code,
        message=texts["message"],
        title=texts["title"],
        category=texts["category"],
        meaning=" ".join(m.text for m in meaning),
        causes=tuple(c.text for c in causes),
        steps=tuple(s.text for s in steps),
        owner=owner,
        owner_detail=texts["owner_detail"],
        escalate=escalate,
        related=related,
        docs=docs,
        phrases=phrases,
        examples=optional["examples"],
        symptoms=optional["symptoms"],
        clues=optional["clues"],
        unlike=optional["unlike"],
        source=source,
        meaning_items=meaning,
        cause_items=causes,
        step_items=steps,
        message_only=message_only,
    )


def _problems_found(found: list[KnowledgeError], errors: list[KnowledgeError] | None) -> None:
    """Raise the first problem, or add them all to `errors` when the caller collects them."""
    if errors is None:
        raise found[0]
    errors.extend(found)
    return None


def _optional_texts(raw: Mapping[str, Any], name: str, where: dict) -> tuple[str, ...]:
    return _texts(raw, name, where, required=False)


def parse_synonyms(raw: Any, source: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise KnowledgeError(source, "'synonyms' must map a word or phrase to the words it means")
    pairs = []
    for key, value in raw.items():
        if not isinstance(key, str) or not isinstance(value, str) or not key.strip() or not value.strip():
            raise KnowledgeError(source, f"synonym {key!r}: {value!r} must map text to text")
        pairs.append((" ".join(key.lower().split()), " ".join(value.lower().split())))
    return tuple(pairs)


def parse_document(doc: Any, source: str,
                   entry_errors: list[KnowledgeError] | None = None) -> tuple[str, tuple[Entry, ...]]:
    """One YAML document -> (version, entries).

    A document that is not shaped right always raises. A bad entry raises too,
    unless `entry_errors` is given: then it is collected there and skipped, so
    the linter can report every bad entry of a file.
    """
    if not isinstance(doc, dict):
        raise KnowledgeError(source, "must be a mapping with 'version' and 'entries' at the top")
    unknown = sorted(set(map(str, doc)) - {"version", "entries", "synonyms"})
    if unknown:
        raise KnowledgeError(source, f"unknown top-level key(s) {', '.join(unknown)}; allowed: version, entries, synonyms")
    version = doc.get("version")
    if not isinstance(version, (str, int, float)) or not str(version).strip():
        raise KnowledgeError(source, "missing a 'version' at the top (shown in every card's footer)")
    raw_entries = doc.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise KnowledgeError(source, "missing 'entries': a list with at least one entry")
    entries = []
    for i, raw in enumerate(raw_entries, 1):
        entry = parse_entry(raw, source, i, entry_errors)
        if entry is not None:
            entries.append(entry)
    return str(version).strip(), tuple(entries)
