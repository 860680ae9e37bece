"""One settings object: defaults, then environment variables; a bad value is one clear error."""
from __future__ import annotations

import pytest

from nmbot.settings import Settings, SettingsError


def test_defaults_need_no_environment():
    settings = Settings.from_env({})
    assert (settings.port, settings.web_workers, settings.log_format) == (3000, 1, "text")
    assert (settings.metrics_host, settings.metrics_port) == ("0.0.0.0", 9000)


def test_keep_days_defaults_to_180_and_takes_fractions_and_zero():
    assert Settings.from_env({}).keep_days == 180.0
    assert Settings.from_env({"NMBOT_KEEP_DAYS": "30.5"}).keep_days == 30.5
    assert Settings.from_env({"NMBOT_KEEP_DAYS": " 0 "}).keep_days == 0.0


def test_recovery_defaults_to_an_hour_with_a_minute_lease_and_can_be_turned_off():
    settings = Settings.from_env({})
    assert (settings.recover_hours, settings.event_lease_seconds) == (1.0, 60.0)
    settings = Settings.from_env({"NMBOT_RECOVER_HOURS": "0", "NMBOT_EVENT_LEASE_SECONDS": "2.5"})
    assert (settings.recover_hours, settings.event_lease_seconds) == (0.0, 2.5)


def test_whole_numbers_are_read():
    settings = Settings.from_env({"NMBOT_PORT": "8080", "NMBOT_WEB_WORKERS": "4", "NMBOT_METRICS_PORT": "0"})
    assert (settings.port, settings.web_workers, settings.metrics_port) == (8080, 4, 0)


def test_socket_mode_gives_up_after_five_minutes_and_pings_every_ten_seconds_by_default():
    settings = Settings.from_env({})
    assert (settings.socket_give_up, settings.socket_ping_seconds) == (300.0, 10.0)
    settings = Settings.from_env({"NMBOT_SOCKET_GIVE_UP": "45", "NMBOT_SOCKET_PING_SECONDS": "2.5"})
    assert (settings.socket_give_up, settings.socket_ping_seconds) == (45.0, 2.5)


def test_the_parse_cache_is_nmbot_cache_dir_else_in_the_xdg_cache(tmp_path, monkeypatch):
    assert Settings.from_env({"NMBOT_CACHE_DIR": str(tmp_path)}).cache_dir == str(tmp_path)
    assert Settings.from_env({"NMBOT_CACHE_DIR": ""}).cache_dir == ""  # no cache
    assert Settings.from_env({"XDG_CACHE_HOME": "/var/cache"}).cache_dir == "/var/cache/nmbot"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Settings.from_env({"XDG_CACHE_HOME": ""}).cache_dir == str(tmp_path / ".cache" / "nmbot")
    assert Settings().cache_dir == ""


def test_offline_commands_read_only_the_knowledge_settings():
    offline = Settings.offline({"NMBOT_KNOWLEDGE": " shipped ", "NMBOT_CACHE_DIR": "/tmp/c", "NMBOT_PORT": "nope"})
    assert (offline.knowledge, offline.cache_dir, offline.port) == ("shipped", "/tmp/c", 3000)


@pytest.mark.parametrize("name, value, expected", [
    ("NMBOT_WEB_WORKERS", "0", "NMBOT_WEB_WORKERS must be at least 1, got '0'"),
    ("NMBOT_WEB_WORKERS", "33", "NMBOT_WEB_WORKERS must be a whole number from 1 to 32, got '33'"),
    ("NMBOT_WEB_WORKERS", "1.5", "NMBOT_WEB_WORKERS must be a whole number from 1 to 32, got '1.5'"),
    ("NMBOT_WEB_WORKERS", "two", "NMBOT_WEB_WORKERS must be a number, got 'two'"),
    ("NMBOT_METRICS_PORT", "65536", "NMBOT_METRICS_PORT must be a whole number from 0 to 65535, got '65536'"),
    ("NMBOT_METRICS_PORT", "-1", "NMBOT_METRICS_PORT must be at least 0, got '-1'"),
    ("NMBOT_PORT", "70000", "NMBOT_PORT must be a whole number from 1 to 65535, got '70000'"),
    ("NMBOT_PORT", "0", "NMBOT_PORT must be at least 1, got '0'"),
    ("NMBOT_KEEP_DAYS", "-1", "NMBOT_KEEP_DAYS must be at least 0, got '-1'"),
    ("NMBOT_KEEP_DAYS", "6 months", "NMBOT_KEEP_DAYS must be a number, got '6 months'"),
    ("NMBOT_KEEP_DAYS", "nan", "NMBOT_KEEP_DAYS must be a number, got 'nan'"),
    ("NMBOT_KEEP_DAYS", "inf", "NMBOT_KEEP_DAYS must be a number, got 'inf'"),
    ("NMBOT_SOCKET_GIVE_UP", "0", "NMBOT_SOCKET_GIVE_UP must be more than 0 and at most 86400 seconds, got '0'"),
    # Pings further apart than this would notice a silent connection later than the 30 s target.
    ("NMBOT_SOCKET_PING_SECONDS", "20",
     "NMBOT_SOCKET_PING_SECONDS must be more than 0 and at most 15 seconds, got '20'"),
    ("NMBOT_RECOVER_HOURS", "-1", "NMBOT_RECOVER_HOURS must be at least 0, got '-1'"),
    ("NMBOT_RECOVER_HOURS", "25", "NMBOT_RECOVER_HOURS must be at most 24, got '25'"),
    ("NMBOT_EVENT_LEASE_SECONDS", "0", "NMBOT_EVENT_LEASE_SECONDS must be more than 0 and at most 3600 seconds, got '0'"),
    ("NMBOT_EVENT_LEASE_SECONDS", "7200", "NMBOT_EVENT_LEASE_SECONDS must be more than 0 and at most 3600 seconds, got '7200'"),
])
def test_a_bad_number_names_the_variable_and_the_value(name, value, expected):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({name: value})
    assert str(raised.value) == expected
