"""The C heap of a long-lived server process: fewer glibc malloc arenas, and freed pages given back once."""
from __future__ import annotations

import sys

M_ARENA_MAX = -8  # glibc's mallopt parameter number


def fewer_malloc_arenas(arenas: int) -> None:
    """Cap glibc's malloc arenas for this process and the workers it forks.

    glibc gives each thread that allocates its own arena, up to eight per core; a server whose
    dozens of threads each touch a little memory keeps every arena's pages resident. Two arenas
    serve a Python process (one GIL) as well. The same as MALLOC_ARENA_MAX=2; elsewhere than glibc
    there is no mallopt and nothing to do.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas)
    except (AttributeError, OSError):  # another C library (musl has no arenas to cap)
        pass


def release_freed_memory() -> None:
    """Give the C heap's free pages back to the system once the app is built.

    Loading the knowledge base and importing the libraries free much of what they allocated, and glibc
    keeps such pages resident until told otherwise; a long-lived server never reaches that size again.
    Elsewhere than glibc there is no malloc_trim and nothing to do.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):
        pass
