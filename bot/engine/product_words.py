"""The words of 8x8's products: those that name each product or one of its fields, and those around a
sign-less number that say it is no code at all. Lower-cased, as `products` reads a text's words."""
from __future__ import annotations

NUMBER_MASKING = "nm"

# Words, lower-cased, and the family they name: a product's name ("name") or a field or term of it
# ("term"). Two-word phrases are read before single words, so "callflows api" is the Voice API and
# "messaging apps" are chat apps.
PHRASES: dict[tuple[str, ...], tuple[str, str]] = {}


def _add(family: str, strength: str, *phrases: str) -> None:
    for phrase in phrases:
        PHRASES[tuple(phrase.split())] = (family, strength)


_add(NUMBER_MASKING, "name", "masking", "masked", "numbermasking", "nm")
_add(NUMBER_MASKING, "term", "session", "sessions", "sessionid", "sessionstatus", "callflow", "callflows",
     "call flow", "call flows", "calla", "callb", "errorcode", "errormsg", "errordetails", "vss", "vca",
     "virtual number", "virtual numbers", "virtualnumber", "virtualnumbers")
_add("sms", "name", "sms", "smses", "dlr", "dlrs", "delivery receipt", "delivery receipts", "delivery report",
     "delivery reports", "messaging api")
_add("sms", "term", "errorid")
_add("chat", "name", "viber", "whatsapp", "chatapps", "chatapp", "chat app", "chat apps", "messaging app",
     "messaging apps")
_add("lookup", "name", "number lookup", "number lookups", "numberlookup", "numlookup", "lookup api", "lookupapi",
     "hlr")
_add("voice", "name", "voice api", "voiceapi", "callflow api", "callflows api", "callflowapi", "callflowsapi")
_add("voice", "term", "statuscode", "statusmessage")
LONGEST_PHRASE = max(len(p) for p in PHRASES)

# A sign-less number right after one of these words is not a code: a year, a room, a port, a line …
NOT_CODE_WORDS = frozenset(
    """
    room rooms rm year years yr port ports ext extension floor fl suite building bldg office unit apt apartment
    flat since in circa until till january february march april june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec q1 q2 q3 q4 fy order orders invoice ticket
    flight gate pin otp tel phone mobile localhost host pid line lines row rows pr sprint build release version ver
    """.split()
)
NOT_CODE_GAP = 3  # at most this many characters (spaces, '#', ':' …) between such a word and the number
NOT_CODE_SEPARATORS = frozenset(" \t#:.,()[]'\"")  # the characters that gap may hold
# ... and right before one of these, it is an amount: '2004 ms', '2010 sessions'.
QUANTITY_WORDS = frozenset(
    """
    ms msec msecs millis millisecond milliseconds s sec secs second seconds min mins minute minutes h hr hrs hour
    hours day days week weeks month months kb mb gb bytes percent pct x times calls sessions users customers
    requests messages numbers people drivers riders bookings orders rows records lines items tickets dollars usd
    sgd eur kbps mbps gbps
    """.split()
)
