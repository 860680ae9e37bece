"""Phone-number masking: hide every MSISDN, leave codes, dates and ids readable."""
from __future__ import annotations

import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from helpers import fewer_examples

from nmbot.engine.privacy import MASK, mask_msisdns

M = MASK


@pytest.mark.parametrize(
    "text, masked",
    [
        ("source +6591234567", f"source +{M}67"),
        ("+65 9123 4567", f"+{M}67"),
        ("call +65-9123-4567.", f"call +{M}67."),
        ("+1-202-555-0143", f"+{M}43"),
        ("+44 (20) 7946 0958", f"+{M}58"),
        ("202-555-0143", f"{M}43"),
        ('"destination": "6598765432"', f'"destination": "{M}32"'),
        ("1234567", f"{M}67"),
        ("to:6591234567,from:6598765432", f"to:{M}67,from:{M}32"),
        ("tel6591234567x", f"tel{M}67x"),
        ("+65 9123 4567 called", f"+{M}67 called"),
        ("(555) 123-4567", f"{M}67"),
        ("555.123.4567", f"{M}67"),
        ("+1 (555) 123-4567", f"+{M}67"),
        ("dial 0091 98765 43210", f"dial {M}10"),
        ("dial 00919876543210", f"dial {M}10"),
        ("0065 9123 4567", f"{M}67"),
        ("020 7946 0958", f"{M}58"),
        ("0412 345 678", f"{M}78"),
        ("callerId=6591234567 sessionId=5212360d-a991-4b5e-9c3a-1234567890ab",
         f"callerId={M}67 sessionId=5212360d-a991-4b5e-9c3a-1234567890ab"),
        ('{"source":"+6591234567","callId":"3d6917d0-e22a-439d-a835-913bd45a4bcb"}',
         f'{{"source":"+{M}67","callId":"3d6917d0-e22a-439d-a835-913bd45a4bcb"}}'),
        ("msisdn_6591234567", f"msisdn_{M}67"),
        # URL-encoded: %2B is a plus, %3D an equals sign; their hex digits make no id of the number.
        ("GET /send?to=%2B6591234567&from=%2B6598765432", f"GET /send?to=%2B{M}67&from=%2B{M}32"),
        ("phone%3D6591234567", f"phone%3D{M}67"),
        # Pasted from a document: no-break spaces, non-breaking hyphens, en dashes.
        ("+65\u00a09123\u00a04567", f"+{M}67"),
        ("+65\u20119123\u20114567", f"+{M}67"),
        ("+1 415\u2013555\u20130132", f"+{M}32"),
    ],
)
def test_phone_numbers_keep_only_their_last_two_digits(text, masked):
    assert mask_msisdns(text) == masked


@pytest.mark.parametrize(
    "text",
    ["errorCode=-2004", "2026-11-27T13:20:39Z", "2026-11-27 13:20:39,123", "123e4567-e89b-12d3-a456-426614174000",
     "v1.2.3", "port 5432", "sipCode 486", "123456", "codes 2004, 2005 and 13", "at 12:30:45", "no digits here", ""],
)
def test_other_numbers_are_left_alone(text):
    assert mask_msisdns(text) == text


# Ids as Session Summaries and logs carry them: support needs them whole to find the session.
SESSION_IDS = [
    "sessionId=5212360d-a991-4b5e-9c3a-1234567890ab",
    "sessionId=5212360D-A991-4B5E-9C3A-1234567890AB",
    '"sessionId":"23955840-cc85-4b02-88bc-937dffea9f6c"',
    "callId=1234567d-e22a-439d-a835-913bd45a4bcb",
    "req=0123456789abcdef",
    "trace 5212360da9914b5e9c3a1234567890ab",
    "TRACE 5212360DA9914B5E9C3A1234567890AB",
    "span=abcdef0123456789",
    "handle 0x1234567890",
    "subAccountId=acme_sg_nm sourceRefId=PSTN1 destinationRefId=PSTN12",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
]


@pytest.mark.parametrize("text", SESSION_IDS)
def test_ids_survive_whole(text):
    assert mask_msisdns(text) == text


HEX = "0123456789abcdef"


@given(st.uuids(), st.sampled_from(["sessionId=", '"sessionId": "', "id ", "callId:", "<sessionId>"]))
def test_property_every_uuid_survives(uuid, key):
    for text in (f"{key}{uuid}", f"{key}{str(uuid).upper()}", f"{key}{uuid.hex}"):
        assert mask_msisdns(text) == text


@given(st.text(alphabet=HEX, min_size=8, max_size=64).filter(lambda t: not t.isdigit()),
       st.sampled_from(["req=", "id ", '"traceId":"', "span:"]))
def test_property_hex_ids_with_a_letter_survive(ident, key):
    assert mask_msisdns(key + ident) == key + ident


@st.composite
def phone_numbers(draw) -> str:
    """A phone number as people and systems write one: +CC or 00CC, or none, then digit groups."""
    country = draw(st.sampled_from(["+65", "+1", "+44", "+852", "0065", "0091", ""]))
    digits = draw(st.text(alphabet="0123456789", min_size=8, max_size=10))
    separator = draw(st.sampled_from(["", " ", "-", "\u00a0", "\u2011"]))
    if not separator:
        return country + digits
    if not country:  # a national number: (555) 123-4567 and its kin
        return f"({digits[:3]}) {digits[3:6]}{separator}{digits[6:8]}{digits[:2]}"
    return country + separator + separator.join([digits[:4], digits[4:]])


@given(phone_numbers(), st.sampled_from(["callerId=", "source: ", '"destination":"', "call ", "tel:"]),
       st.booleans())
def test_property_phone_numbers_show_at_most_two_digits(number, key, in_a_url):
    if in_a_url:  # a query string: a plus as %2B, after = or after an escaped =
        assume(" " not in number and "\u00a0" not in number)
        key = "?to=" if key == "tel:" else "msisdn%3D"
        number = number.replace("+", "%2B")
    masked = mask_msisdns(key + number)
    assert MASK in masked
    assert sum(c.isdigit() for c in masked.replace("%2B", "").replace("%3D", "")) == 2


@fewer_examples(4)  # every example is a text of thousands of characters
@given(st.text(alphabet="0123456789abcdefxyz+-(). =", min_size=1000, max_size=20_000))
def test_property_masking_takes_linear_time(text):
    started = time.perf_counter()
    mask_msisdns(text)
    assert time.perf_counter() - started < 1.0, f"{len(text)} characters took too long"


@pytest.mark.parametrize("line", ["1234567a" * 20_000, "a" * 200_000 + "1234567", "0091 " * 40_000,
                                  ("f" * 63 + "1234567") * 3000])
def test_lines_built_to_make_the_id_check_look_far_are_read_quickly(line):
    started = time.perf_counter()
    mask_msisdns(line)
    assert time.perf_counter() - started < 2.0


def test_the_mask_does_not_reveal_the_length():
    assert mask_msisdns("12345678")[:-2] == mask_msisdns("991234567890123")[:-2]


def test_masking_is_idempotent():
    once = mask_msisdns("+6591234567 and 202-555-0143")
    assert mask_msisdns(once) == once
