"""What the resolver answers, and why, in words: the matched code, the answer or the suggestions, and the
score and lead an answer needs."""
from __future__ import annotations

from dataclasses import dataclass

from .knowledge import Entry
from .products import CodeReading, Sighting

ANSWER_MIN = 65.0  # a fuzzy answer needs at least this score ...
MARGIN = 8.0  # ... and this lead over the best other code
SUGGEST_MIN = 55.0  # weaker candidates are not worth suggesting
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Match:
    """One candidate: which code, how sure, and what in the knowledge base matched."""

    code: int
    score: float
    field: str  # "code" or "message" (exact), "official message", "title", "phrase" (fuzzy), or "nearest-code"
    matched: str
    entry: Entry | None = None

    @property
    def message(self) -> str:
        return self.entry.message if self.entry else ""


@dataclass(frozen=True)
class Resolution:
    query: str
    answer: Match | None
    suggestions: tuple[Match, ...] = ()
    runner_up: Match | None = None
    unknown_codes: tuple[int, ...] = ()
    elsewhere: tuple[Sighting, ...] = ()  # numbers (or a message) of other 8x8 products
    doubtful: tuple[int, ...] = ()  # sign-less codes with nothing to say whose they are
    note: str = ""  # said on the card: whose a sign-less number is, and whose it is not
    shared: tuple[Match, ...] = ()  # a symptom several codes tie on (or a clue), set aside for the rest of the question
    ruled_out: Match | None = None  # what the question reads like, which the knowledge base says is not that code
    second_cause: Match | None = None  # another code the rest of the question points at as clearly as the best

    def shared_reason(self) -> str:
        """How a symptom several codes show (or a clue) was set aside, or "" when none was."""
        if not self.shared:
            return ""
        if self.shared[0].field == "clue":
            m = self.shared[0]
            return (f"“{m.matched}” is a sign of {m.code} that other failures show too (score {m.score:.0f} "
                    "on the whole question), so the rest of the question decided")
        codes = [m.code for m in self.shared]
        named = ", ".join(map(str, codes[:-1])) + f" and {codes[-1]}"
        scores = ", ".join(f"{m.score:.0f}" for m in self.shared[:-1]) + f" and {self.shared[-1].score:.0f}"
        return (f"the symptom \u201c{self.shared[0].matched}\u201d fits {named} alike (scores {scores} on the "
                "whole question), so the rest of the question decided")

    def explain(self) -> str:
        """Why the resolver answered (or did not), in one sentence."""
        if self.answer is not None:
            a = self.answer
            how = {
                "code": f"the code {a.code} appears in the question",
                "message": f"the question quotes 8x8's message for {a.code}",
            }.get(a.field, f"the {a.field} \u201c{a.matched}\u201d matched with score {a.score:.0f}")
            if self.runner_up is not None and a.field not in ("code", "message"):
                how += f"; runner-up {self.runner_up.code} scored {self.runner_up.score:.0f}"
            if self.shared:
                how = f"{self.shared_reason()}: {how}"
            return how[0].upper() + how[1:] + "."
        if self.unknown_codes:
            codes = ", ".join(str(c) for c in self.unknown_codes)
            return f"{codes} is not a Number Masking error code in the knowledge base."
        if self.elsewhere:
            return elsewhere_reason(self.elsewhere[0])
        if self.doubtful:
            return doubt_reason(self.doubtful[0])
        if self.ruled_out is not None:
            m = self.ruled_out
            return (f"The question reads most like “{m.matched}” (score {m.score:.0f}), which the knowledge "
                    f"base says is not {m.code}.")
        if self.second_cause is not None:
            a, b = self.suggestions[0], self.second_cause
            return (f"The question points at two codes: {a.code} through the {a.field} “{a.matched}” "
                    f"(score {a.score:.0f}) and, in the rest of it, {b.code} through the {b.field} "
                    f"“{b.matched}” (score {b.score:.0f}); what else you see decides.")
        if self.suggestions:
            best = self.suggestions[0]
            if best.field == NOT_8X8:
                return (f"The question quotes 8x8's message for {best.code} but says the error is not 8x8's; "
                        f"{best.code} is what 8x8 would mean by it.")
            if best.field == "clue":
                return (f"“{best.matched}” is a sign of {best.code} that other failures show too "
                        f"(score {best.score:.0f}); what else you see decides.")
            sharers = [m.code for m in self.suggestions if m.field == "symptom" and m.matched == best.matched]
            if best.field == "symptom" and len(sharers) > 1:
                codes = ", ".join(map(str, sharers[:-1])) + f" and {sharers[-1]}"
                return (f"The symptom \u201c{best.matched}\u201d fits {codes} alike (score {best.score:.0f}); "
                        "what else you see decides between them.")
            lead = best.score - (self.runner_up.score if self.runner_up is not None else 0.0)
            if best.field not in ("code", "message", "nearest-code") and best.score >= ANSWER_MIN and lead >= MARGIN:
                return (f"The best match, {best.code}, scored {best.score:.0f}, but the question does not say "
                        "that anything went wrong.")
            return f"No match was clear enough: the best, {best.code}, scored {best.score:.0f}."
        return "Nothing in the knowledge base matched closely enough."


# The field of a suggestion whose message the question quotes while saying the error is not 8x8's.
NOT_8X8 = "message, not 8x8's"

OTHERS_WITH_THE_SAME_DIGITS = "SMS, chat apps or Number Lookup"


def card_note(code: int, reading: CodeReading) -> str:
    """What a card adds when the question typed its code without the sign, or held other products' numbers."""
    parts = []
    if code in reading.bare or any(s.number is not None and s.number > 0 for s in reading.elsewhere):
        parts.append(f"Number Masking reports this code as {code}; a positive {-code} from "
                     f"{OTHERS_WITH_THE_SAME_DIGITS} is another product's code.")
    for s in reading.elsewhere[:MAX_SUGGESTIONS]:
        if s.product.key == "voice" and s.number is not None and s.number < 0:
            parts.append(f"The {s.number} in the question is a Voice API status code, not Number Masking's.")
        else:
            parts.append(f"The {s.number} beside {s.named} in the question is {s.named}'s, not Number Masking's.")
    return " ".join(parts)


def elsewhere_reason(s: Sighting) -> str:
    """Why a number (or a message) was given to another product, in one sentence."""
    if s.number is None:
        return (f"The question quotes 8x8's message for {s.lookalike} with {s.named} named and no Number Masking "
                f"term: it most likely is {s.named}'s own message.")
    if s.product.key == "voice" and s.number < 0:
        also = (f" The message beside it reads like Number Masking's {s.lookalike}, which Number Masking "
                "reports in its callbacks and session summaries." if s.lookalike is not None else "")
        return f"{s.number} is a Voice API status code, not a Number Masking error code.{also}"
    return (f"{s.number} is not a Number Masking error code: with {s.named} named beside it, it most likely is "
            f"{s.named}'s.")


def doubt_reason(code: int) -> str:
    return (f"{-code} has no minus sign and nothing in the question says whose it is: Number Masking reports "
            f"{code}, and {OTHERS_WITH_THE_SAME_DIGITS} use a positive {-code} for errors of their own.")
