"""Synonyms: interchangeable wordings rewritten to one form, in questions and phrases alike."""
from __future__ import annotations

import re
from typing import Iterable

from .text import OneEditAway
from .typos import plausible_typo


class Synonyms:
    """Rewrites interchangeable wordings to one form before matching."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        pairs = sorted(((_unhyphenated(k), v) for k, v in pairs), key=lambda kv: -len(kv[0]))
        self._map = dict(pairs)
        self._pattern = re.compile(r"\b(?:" + longest_first(k for k, _ in pairs) + r")\b") if pairs else None
        self._near_keys = OneEditAway(k for k, _ in pairs if " " not in k and len(k) >= 5)

    def apply(self, text: str, vocabulary: dict | None = None) -> str:
        """The text with every synonym replaced; with a vocabulary, misspelt one-word synonyms too."""
        text = _unhyphenated(text.lower().replace("\u2019", "'"))  # phones type a curly apostrophe in "don\u2019t"
        if self._pattern is None:
            return text
        if vocabulary is not None:
            if "_" in text:
                text = _SNAKE_CASE.sub(lambda m: self._joined(m.group(0), vocabulary), text)
            text = re.sub(r"[a-z]{5,}", lambda m: self._respell(m.group(0), vocabulary), text)
        return self._pattern.sub(lambda m: self._map[m.group(0)], text)

    def _joined(self, identifier: str, vocabulary: dict) -> str:
        """"make_call" as "makecall" when that is a word of the knowledge base (or a synonym's)."""
        joined = identifier.replace("_", "")
        return joined if joined in vocabulary or joined in self._map else identifier

    def _respell(self, word: str, vocabulary: dict) -> str:
        if word in self._map or word in vocabulary:
            return word
        near = [key for key in self._near_keys.matches(word) if plausible_typo(word, key)]
        return near[0] if near else word


def longest_first(keys: Iterable[str]) -> str:
    """A pattern matching any of the keys, the longest that fits where several do, built as a trie:
    at each position the engine follows one path of letters, at most one key long, instead of
    trying every key in turn. Each group is an optional continuation with no repeat, so a match
    attempt is bounded by the longest key and the whole search is linear in the text."""
    trie: dict = {}
    for key in keys:
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _branches(trie)


def _branches(node: dict) -> str:
    parts = [re.escape(ch) + _branches(child) for ch, child in sorted(node.items()) if ch]
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    return f"(?:{body})?" if "" in node else body


# An identifier in snake case: letters and digits joined by underscores, matched only from the start
# of a run (the look-behind), so a run without an underscore is tried once: linear time.
_SNAKE_CASE = re.compile(r"(?<![a-z0-9_])[a-z0-9]+(?:_[a-z0-9]+)+")
_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")  # one character between two letters: linear time


def _unhyphenated(text: str) -> str:
    """"read-out-loud" as "read out loud", so a synonym is written one way for both."""
    return _HYPHEN.sub(" ", text)
