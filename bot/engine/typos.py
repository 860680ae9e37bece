"""Whether a typed word is a slip for a known word, not another word."""
from __future__ import annotations

LONG_WORD = 6  # from this length a typed letter may stand for any other; shorter, only for a neighbouring key

# Each letter's neighbours on a QWERTY keyboard: a slipped finger hits one of them.
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, set[str]] = {}
for _r, _row in enumerate(_KEY_ROWS):
    for _c, _key in enumerate(_row):
        for _dr in (-1, 0, 1):
            for _dc in (-1, 0, 1):
                _nr, _nc = _r + _dr, _c + _dc
                if (_dr or _dc) and 0 <= _nr < len(_KEY_ROWS) and 0 <= _nc < len(_KEY_ROWS[_nr]):
                    _NEIGHBOURS.setdefault(_key, set()).add(_KEY_ROWS[_nr][_nc])


def plausible_typo(typed: str, known: str) -> bool:
    """Whether `typed` reads as a slip for `known`, not as another word.

    People rarely mistype a word's first letter ("rest" is not "test"), and a
    short word with one letter changed is most often a different word ("read",
    "real"; "gave", "give") unless the two letters sit side by side on the keyboard."""
    if typed[0] != known[0] and typed[:2] != known[1::-1]:
        return False
    if len(typed) == len(known) and len(known) < LONG_WORD:
        changed = [(a, b) for a, b in zip(typed, known) if a != b]
        if len(changed) == 1:
            a, b = changed[0]
            return b in _NEIGHBOURS.get(a, ())
    return True

