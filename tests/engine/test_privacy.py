from __future__ import annotations

import pytest

from bot.engine.privacy import mask_msisdns


@pytest.mark.parametrize(
    "text, masked",
    [
        ("source +6591234567", "source +\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u202267"),
        ("+65 9123 4567", "+\u2022\u2022 \u2022\u2022\u2022\u2022 \u2022\u202267"),
        ("+1-202-555-0143", "+\u2022-\u2022\u2022\u2022-\u2022\u2022\u2022-\u2022\u202243"),
        ("202-555-0143", "\u2022\u2022\u2022-\u2022\u2022\u2022-\u2022\u202243"),
        ('"destination": "6598765432"', '"destination": "\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u202232"'),
    ],
)
def test_phone_numbers_are_masked_but_the_last_two_digits(text, masked):
    assert mask_msisdns(text) == masked


@pytest.mark.parametrize(
    "text",
    ["errorCode=-2004", "2026-11-27T13:20:39Z", "123e4567-e89b-12d3-a456-426614174000", "v1.2.3", "port 5432",
     "sipCode 486", "no digits here"],
)
def test_other_numbers_are_left_alone(text):
    assert mask_msisdns(text) == text
