"""What every test of a Slack message checks: within Slack's limits, and every text a reader sees."""
from __future__ import annotations

from nmbot.cards.kit import validate_message


def texts(message: dict) -> list[str]:
    """Every text a reader can see, fallback included."""
    found = [message["text"]]

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message["blocks"])
    return found


def assert_within_limits(message: dict) -> None:
    validate_message(message)
    assert message["text"].strip(), "a top-level fallback text is required"
    assert 0 < len(message["blocks"]) <= 50
    for raw in message["blocks"]:
        if raw["type"] == "header":
            assert len(raw["text"]["text"]) <= 150
        if raw["type"] == "section":
            assert len(raw.get("text", {}).get("text", "")) <= 3000
            assert all(len(f["text"]) <= 2000 for f in raw.get("fields", ()))
