"""Phone-number masking: hide every MSISDN, leave codes, dates and ids readable."""
from __future__ import annotations

import pytest

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


def test_the_mask_does_not_reveal_the_length():
    assert mask_msisdns("12345678")[:-2] == mask_msisdns("991234567890123")[:-2]


def test_masking_is_idempotent():
    once = mask_msisdns("+6591234567 and 202-555-0143")
    assert mask_msisdns(once) == once
