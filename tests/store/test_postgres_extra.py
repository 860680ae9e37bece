"""PostgreSQL comes with the postgres extra: without its driver, opening a PostgreSQL store says which
extra to install, in one line, and SQLite needs nothing."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nmbot.store import StoreError, open_store

EXTRA_LINE = "PostgreSQL needs the postgres extra: pip install 'nmbot[postgres]'"
# Port 9 on loopback: nothing is ever connected to, the missing driver is found first.
PG_URL = "postgresql://nmbot:secret@127.0.0.1:9/nmbot"
# A fresh interpreter in which `import psycopg` fails, as where the extra was not installed.
WITHOUT_PSYCOPG = [sys.executable, "-c",
                   "import sys; sys.modules['psycopg'] = None; from nmbot.cli.main import main; sys.exit(main())"]


@pytest.mark.parametrize("url", [PG_URL, "postgres://nmbot@127.0.0.1:9/nmbot",
                                 "postgresql+psycopg://nmbot@127.0.0.1:9/nmbot"])
def test_open_store_names_the_extra(monkeypatch, url):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError) as raised:
        open_store(url)
    assert str(raised.value) == EXTRA_LINE


def test_sqlite_needs_no_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    store = open_store(str(tmp_path / "state.sqlite3"))
    try:
        assert store.claim("msg:C1:1", ttl=60) is True
    finally:
        store.close()


def test_report_names_the_extra_in_one_line(tmp_path):
    env = {**os.environ, "NMBOT_DATABASE_URL": PG_URL}
    proc = subprocess.run([*WITHOUT_PSYCOPG, "report"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"nmbot: {EXTRA_LINE}\n"
