"""Which files make the knowledge base, reading them (with a parse cache) and merging them into one."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from .kb_document import parse_document, parse_synonyms
from .knowledge import Entry, KnowledgeBase, KnowledgeError

ENV_VAR = "NMBOT_KNOWLEDGE"
YAML_SUFFIXES = (".yaml", ".yml")


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
