"""The knowledge base: typed, immutable entries loaded from YAML files.

Support staff edit the YAML; this module turns it into `Entry` objects or one
clear `KnowledgeError` naming the file, the entry and the field that is wrong.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

OWNERS = ("customer", "8x8", "both")
ENV_VAR = "NMBOT_KNOWLEDGE"
YAML_SUFFIXES = (".yaml", ".yml")


class KnowledgeError(ValueError):
    """A knowledge-base file that cannot be used, with where and why."""

    def __init__(self, source: str, problem: str, entry: str | None = None, field_name: str | None = None):
        self.source = source
        self.entry = entry
        self.field_name = field_name
        self.problem = problem
        where = source
        if entry is not None:
            where += f": entry {entry}"
        if field_name is not None:
            where += f", field '{field_name}'"
        super().__init__(f"{where}: {problem}")


OURS = "ours"  # the `source:` of an item that is our own troubleshooting notes


@dataclass(frozen=True)
class Sourced:
    """One part of a meaning, one cause or one step, with where it comes from.

    Support engineers weigh "8x8 documents this" differently from "someone on our team found this",
    so every item says which it is and, for 8x8's word, the page that says it.
    """

    text: str
    page: str = ""  # the 8x8 page that says it; empty for our own notes
    stated: bool = True  # False when the file named no source: `nmbot kb check` refuses it, cards show it as ours

    @property
    def from_8x8(self) -> bool:
        return bool(self.page)


@dataclass(frozen=True)
class Entry:
    """One error code and everything a support engineer needs about it."""

    code: int
    message: str
    title: str
    category: str
    meaning: str
    causes: tuple[str, ...]
    steps: tuple[str, ...]
    owner: str
    owner_detail: str
    escalate: tuple[str, ...]
    related: tuple[int, ...]
    docs: str
    phrases: tuple[str, ...]
    examples: tuple[str, ...]
    symptoms: tuple[str, ...] = ()  # what people see when this code is behind a failure, for questions without it
    # What this code shows but so do failures without a code of their own: offered, never a card alone.
    clues: tuple[str, ...] = ()
    # What sounds like this code but is not it: a question that reads most like one gets no card.
    unlike: tuple[str, ...] = ()
    source: str = field(default="", compare=False)
    # The same meaning, causes and steps, each part with its source (8x8's page or our notes).
    meaning_items: tuple[Sourced, ...] = ()
    cause_items: tuple[Sourced, ...] = ()
    step_items: tuple[Sourced, ...] = ()
    message_only: bool = False  # 8x8 documents nothing about this code beyond its message

    @property
    def label(self) -> str:
        """The code as 8x8 prints it, e.g. "-2004"."""
        return str(self.code)


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    version: str
    sources: tuple[str, ...] = ()
    # Words people use interchangeably ("callflow" -> "call flow"), applied to
    # questions and phrases alike before matching.
    synonyms: tuple[tuple[str, str], ...] = ()
    codes: frozenset[int] = field(init=False, compare=False, repr=False)  # every code, for membership tests

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {e.code: e for e in self.entries})
        object.__setattr__(self, "codes", frozenset(self._by_code))

    def get(self, code: int) -> Entry | None:
        return self._by_code.get(code)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)


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


def read_yaml(path: Path, cache_dir: str = "") -> Any:
    """The parsed document, from the parse cache in `cache_dir` ("": none) when the file has not changed since."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise KnowledgeError(str(path), "no such file") from None
    except OSError as exc:
        raise KnowledgeError(str(path), f"cannot be read: {exc.strerror}") from None
    cached = _cache_read(path, stat, cache_dir)
    if cached is not None:
        return cached
    doc = _parse_yaml(path)
    _cache_write(path, stat, doc, cache_dir)
    return doc


def _parse_yaml(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(str(path), "no such file") from None
    except IsADirectoryError:
        raise KnowledgeError(str(path), "is a folder, expected a .yaml file") from None
    except UnicodeDecodeError as exc:
        raise KnowledgeError(str(path), f"is not valid UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise KnowledgeError(str(path), f"cannot be read: {exc.strerror}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise KnowledgeError(str(path), f"is not valid YAML{at}: {problem}") from None


# --- parse cache: YAML parsing (and importing PyYAML) is most of a cold `nmbot ask` ---------

def _cache_file(path: Path, folder: str) -> Path | None:
    import hashlib

    if not folder:
        return None  # no cache (NMBOT_CACHE_DIR set empty)
    key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    return Path(folder) / f"kb-{key}.json"


def _cache_read(path: Path, stat: os.stat_result, folder: str) -> Any:
    import json

    cache = _cache_file(path, folder)
    try:
        entry = json.loads(cache.read_text(encoding="utf-8")) if cache else None
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("stamp") != [stat.st_mtime_ns, stat.st_size]:
        return None
    return entry.get("doc")


def _cache_write(path: Path, stat: os.stat_result, doc: Any, folder: str) -> None:
    """Best effort: a cache that cannot be written only costs speed."""
    import json

    cache = _cache_file(path, folder)
    if cache is None:
        return
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"stamp": [stat.st_mtime_ns, stat.st_size], "doc": doc}), encoding="utf-8")
        os.replace(temporary, cache)
    except (OSError, TypeError, ValueError):
        pass  # read-only home, or a document JSON cannot hold (dates): parse every time


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given; folders become their .yaml files, sorted by name."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in YAML_SUFFIXES and f.is_file())
            if not found:
                raise KnowledgeError(str(p), "folder holds no .yaml files")
            files.extend(found)
        else:
            files.append(p)
    return files


def merge(parts: Iterable[tuple[str, str, tuple[Entry, ...]]],
          synonyms: Iterable[tuple[str, tuple[tuple[str, str], ...]]] = ()) -> KnowledgeBase:
    """Combine files; the same code in two places is an error naming both."""
    entries: list[Entry] = []
    seen: dict[int, Entry] = {}
    versions, sources = [], []
    merged_synonyms: dict[str, tuple[str, str]] = {}
    for source, pairs in synonyms:
        for key, value in pairs:
            if key in merged_synonyms and merged_synonyms[key][0] != value:
                raise KnowledgeError(
                    source, f"synonym {key!r} means {value!r} here but {merged_synonyms[key][0]!r} in {merged_synonyms[key][1]}"
                )
            merged_synonyms[key] = (value, source)
    for source, version, part in parts:
        sources.append(source)
        versions.append(f"{Path(source).stem} {version}")
        for entry in part:
            if entry.code in seen:
                first = seen[entry.code]
                raise KnowledgeError(
                    source,
                    f"code {entry.code} is defined twice (also in {first.source}); keep one entry per code",
                    entry=str(entry.code),
                    field_name="code",
                )
            seen[entry.code] = entry
            entries.append(entry)
    if not entries:
        raise KnowledgeError(", ".join(sources) or "knowledge base", "holds no entries")
    return KnowledgeBase(
        entries=tuple(entries),
        version=" + ".join(versions),
        sources=tuple(sources),
        synonyms=tuple((k, v) for k, (v, _) in merged_synonyms.items()),
    )


def load_files(paths: Iterable[str | os.PathLike], cache_dir: str = "") -> KnowledgeBase:
    parts, synonyms = [], []
    for path in expand_paths(paths):
        doc = read_yaml(path, cache_dir)
        version, entries = parse_document(doc, str(path))
        parts.append((str(path), version, entries))
        synonyms.append((str(path), parse_synonyms(doc.get("synonyms"), str(path))))
    return merge(parts, synonyms)


def shipped_paths() -> list[Path]:
    """The knowledge files that ship with the package (or the checkout's knowledge/)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "knowledge"  # where a wheel puts nmbot.knowledge
    folder = installed if installed.is_dir() else package.parent / "knowledge"
    return expand_paths([folder])


SHIPPED = "shipped"


def configured_paths(knowledge: str = "") -> list[Path]:
    """What `knowledge` (the setting NMBOT_KNOWLEDGE) names, or the shipped files when it is empty.

    NMBOT_KNOWLEDGE lists files or folders separated by the OS path separator;
    the word `shipped` among them stands for the shipped knowledge base, so a
    team adds its own codes with `NMBOT_KNOWLEDGE=shipped:/etc/nmbot/team.yaml`.
    """
    value = knowledge.strip()
    if not value:
        return shipped_paths()
    return source_paths([value])


def source_paths(sources: Iterable[str], *, expand: bool = True) -> list[Path]:
    """The files that knowledge sources name, read as NMBOT_KNOWLEDGE is: files, folders and the word
    `shipped`, several in one string separated by the OS path separator. Without `expand`, folders are
    left as they are (`nmbot kb check` reports an empty one as a problem among the others)."""
    paths: list[Path] = []
    for source in sources:
        for part in (p.strip() for p in str(source).split(os.pathsep)):
            if part == SHIPPED:
                paths.extend(shipped_paths())
            elif part:
                paths.extend(expand_paths([part]) if expand else [Path(part)])
    return paths


def load(paths: Iterable[str | os.PathLike] | None = None, *, knowledge: str = "",
         cache_dir: str = "") -> KnowledgeBase:
    """Load the given files, or what `knowledge` (NMBOT_KNOWLEDGE) names, or the shipped knowledge base;
    parsed files are cached in `cache_dir` ("": no cache)."""
    return load_files(list(paths) if paths else configured_paths(knowledge), cache_dir)
