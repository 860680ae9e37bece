"""What the bot says, and whether and where it says it, with no Slack in it.

The listeners (nmbot.slack.listeners) parse what Slack sent into plain values, call one function here and
send what it decided: each function takes the listener's `post`, `respond` or file reader as a callable, so
this layer imports neither slack_sdk nor slack_bolt (only the cards it draws with use slack_sdk's Block Kit
models). Here: the answers (`answers`), delivery claims and
cool-downs (`claims`), replies in threads to pastes and mentions (`threads`), the `/nmerror` command and its
channel controls (`commands`, `controls`), the message shortcut (`shortcut`), buttons and votes (`clicks`,
`votes`) and the App Home tab (`home`). `kinds` names every reply kind and surface; `refs` is what the vote and
"Why this answer?" buttons carry.

Nothing is imported here, so `nmbot.replies.kinds` stays as light as the report needs it.
"""
from __future__ import annotations

# Slack's own limit on a message's text: a question is never longer, and the resolver reads it whole.
MAX_QUESTION_CHARS = 40_000
