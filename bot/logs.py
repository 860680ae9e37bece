"""Log output for the running bot: one handler for nmbot, gunicorn and the Slack SDKs.

Lines are plain text, or one JSON object each with NMBOT_LOG_FORMAT=json.
Redaction sits on the handler rather than in the code that logs, because the
records that leak are the ones nmbot does not write: slack_sdk's debug lines
print request headers (the bot token), Bolt's print request bodies (pasted
logs full of phone numbers), and a traceback can quote either.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import IO, Iterable

from .engine.privacy import mask_msisdns, mask_url
from .settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Slack tokens of every kind (bot, user, app-level, configuration, refresh), whatever the settings hold.
_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]{4,}")
# Attributes every LogRecord has; anything else was passed as `extra=` and is context worth keeping.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class RedactingFilter(logging.Filter):
    """Removes Slack tokens, the configured secrets and phone numbers from every record it sees,
    and shows the configured `urls` with their password and query masked."""

    def __init__(self, secrets: Iterable[str] = (), urls: Iterable[str] = ()):
        super().__init__()
        # Longest first, so a secret that contains another is removed whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        # slack_sdk logs a retried request with its URL, which starts with the configured one less its query.
        forms = {form for url in urls if url for form in (url, url.partition("?")[0])}
        masked = ((form, mask_url(form, whole_query=True)) for form in sorted(forms, key=len, reverse=True))
        self._urls = [(form, shown) for form, shown in masked if shown != form]

    def redact(self, text: str) -> str:
        for url, shown in self._urls:
            text = text.replace(url, shown)
        text = _TOKEN.sub(REDACTED, text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return mask_msisdns(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(_message_of(record)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in context_of(record).items():
            if isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


def _message_of(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # arguments that do not fit the format must not cost the line
        return f"{record.msg} {record.args!r}"


def context_of(record: logging.LogRecord) -> dict:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log shippers parse without a grok pattern."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
            **context_of(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def secrets_of(settings: Settings) -> list[str]:
    found = (settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret)
    return [s.reveal() for s in found if s is not None]


def configure(settings: Settings, stream: IO[str] | None = None) -> None:
    """Log to standard error in the configured format and level, redacted.

    A caller that set logging up already (a test, an embedding program) keeps
    its handlers; they get the redaction all the same.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
        root.addHandler(handler)
        root.setLevel(settings.log_level.upper())
    # slack_sdk formats every request for its debug line when its own logger's level is unset (0 is
    # "<= DEBUG"), whatever the handlers would keep: a real cost on every Web API call.
    logging.getLogger("slack_sdk.web.base_client").setLevel(settings.log_level.upper())
    redactor = RedactingFilter(secrets_of(settings), urls=[settings.slack_api_url])
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)


def gunicorn_logger_class() -> type:
    """gunicorn's logger, writing through the root handler instead of its own.

    gunicorn installs an unfiltered stream handler of its own format; routing
    its records to the root gives one format (JSON included) and one redaction.
    """
    from gunicorn.glogging import Logger

    class ThroughRoot(Logger):
        def setup(self, cfg) -> None:
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in list(log.handlers):  # gunicorn's loggers: every handler on them is its own
                    log.removeHandler(handler)
                log.propagate = True

    return ThroughRoot
