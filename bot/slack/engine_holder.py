"""The knowledge base a running bot answers from, swapped whole when it is reloaded.

A reload replaces the knowledge base, its resolver and its scanner together.
A listener that read the resolver before a swap and the knowledge base after
it could show a card for a code the new file no longer has, so each listener
run is pinned to the engine that was current when it started (`pinned`), and
sees only that one until it ends.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, TypeVar

from ..engine.knowledge import KnowledgeBase
from ..engine.resolver import Resolver
from ..engine.scanner import Scanner

T = TypeVar("T")


@dataclass(frozen=True)
class Engine:
    kb: KnowledgeBase
    resolver: Resolver
    scanner: Scanner

    @classmethod
    def build(cls, kb: KnowledgeBase) -> "Engine":
        resolver = Resolver(kb)
        resolver.index  # built now, so the first question after a (re)load does not wait for it
        return cls(kb, resolver, Scanner(kb, large_inputs=False))  # pastes and files of 2 MB at most


class LiveEngine:
    """The current `Engine`; `swap` replaces it, `pinned` holds one still for a listener run."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._pins = threading.local()
        self.problem: str | None = None  # why the last reload was refused, until one succeeds

    @property
    def current(self) -> Engine:
        return getattr(self._pins, "engine", None) or self._engine

    @property
    def latest(self) -> Engine:
        return self._engine

    def swap(self, engine: Engine) -> Engine:
        """Serve `engine` to every listener run that starts from now on; returns the one it replaced."""
        old, self._engine = self._engine, engine
        self.problem = None
        return old

    def pinned(self, fn: Callable[..., T]) -> Callable[..., T]:
        """`fn`, made to see one engine from start to end wherever it runs."""

        # No functools.wraps: copying the metadata cost more than the rest of this, on every listener run.
        def run(*args, **kwargs):
            outer = getattr(self._pins, "engine", None)
            self._pins.engine = outer or self._engine
            try:
                return fn(*args, **kwargs)
            finally:
                self._pins.engine = outer

        return run
