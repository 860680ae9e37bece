"""What the bot says about its own settings in a channel: auto-replies on, off or in shadow, and mutes."""
from __future__ import annotations

from datetime import datetime, timezone

from .kit import block_message, escape, section, user_ref

CONTROL_HELP = (
    "`/nmerror autoreply on|off|shadow` \u2014 whether I reply to pasted logs in this channel "
    "(shadow: I only record what I would have said)",
    "`/nmerror mute 2h` \u2014 pause my auto-replies here for a while (`30m`, `2h`, `1d`; `/nmerror mute off` ends it)",
    "React \u274c to one of my replies to remove it and keep me quiet in that thread",
    "*Explain error codes* in any message's \u22ee menu \u2014 a private explanation of every code in it",
)
AUTOREPLY_MEANING = {
    "on": "I reply in the thread of a pasted log that holds Number Masking error codes.",
    "off": "I do not reply to pasted logs here. `/nmerror`, mentions and *Explain error codes* still work.",
    "shadow": "I record what I would have replied to pasted logs, and post nothing.",
}


def slack_date(epoch: float) -> str:
    """A time every reader sees in their own time zone (UTC in the fallback)."""
    fallback = datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(epoch)}^{{date_short_pretty}} at {{time}}|{fallback}>"


def autoreply_changed_message(user: str, mode: str, muted_until: float | None = None) -> dict:
    """For the channel: who changed auto-replies, and what that means."""
    said = {"on": "turned auto-replies *on*", "off": "turned auto-replies *off*",
            "shadow": "put auto-replies in *shadow* mode"}[mode]
    lines = [f"{user_ref(user)} {said} in this channel. {AUTOREPLY_MEANING[mode]}"]
    if muted_until is not None and mode != "off":
        lines.append(f"They stay muted until {slack_date(muted_until)} (`/nmerror mute off` ends that).")
    return block_message(f"Auto-replies here are now {mode} (changed by {user_ref(user)})", [section("\n".join(lines))])


def autoreply_status_message(mode: str, muted_until: float | None = None) -> dict:
    """For the person who asked: the channel's setting and how to change it."""
    lines = [f"Auto-replies in this channel are *{mode}*. {AUTOREPLY_MEANING[mode]}"]
    if muted_until is not None:
        lines.append(f"They are muted until {slack_date(muted_until)}.")
    lines.append("Change it with `/nmerror autoreply on`, `off` or `shadow`, or pause with `/nmerror mute 2h`.")
    return block_message(f"Auto-replies here are {mode}", [section("\n".join(lines))])


def muted_message(user: str, duration: str, until: float) -> dict:
    text = (f"{user_ref(user)} muted my auto-replies in this channel for {escape(duration)}, until "
            f"{slack_date(until)}. `/nmerror`, mentions and *Explain error codes* still work; "
            "`/nmerror mute off` ends the mute early.")
    return block_message(f"Auto-replies muted here for {duration} (by {user_ref(user)})", [section(text)])


def unmuted_message(user: str, mode: str) -> dict:
    text = f"{user_ref(user)} ended the mute: auto-replies in this channel are *{mode}* again."
    return block_message(f"Auto-replies here are {mode} again (by {user_ref(user)})", [section(text)])
