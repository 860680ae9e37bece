"""compose.yaml and the Dockerfile agree: the image, its ports, its volume, its health check, its settings.

No image registry is reachable here, so compose is not run (PostgreSQL's image cannot be pulled); the image
itself is built and run by test_deploy_container.py. These checks read both files and hold them to each other
and to the bot's own settings and command line.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml
from sqlalchemy.engine import make_url

from nmbot.cli.main import build_parser
from nmbot.settings import Settings

REPO = Path(__file__).resolve().parents[2]
INTERPOLATION = re.compile(r"\$\{([A-Z_]+)(?::[?-][^}]*)?\}")
SYSTEMD_ONLY = {"NMBOT_SERVE_ARGS"}  # read by deploy/nmbot.service's ExecStart, not by nmbot


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments left out."""
    instructions, pending = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, rest = pending.strip().partition(" ")
        instructions.append((word.upper(), rest.strip()))
        pending = ""
    return instructions


class Dockerfile:
    def __init__(self, path: Path):
        self.instructions = dockerfile_instructions(path.read_text())
        stages = [i for i, (word, _) in enumerate(self.instructions) if word == "FROM"]
        self.final = self.instructions[stages[-1]:]  # what the image is made of; earlier stages only build
        self.stage_bases = [self.instructions[i][1].split()[0] for i in stages]

    def args(self) -> dict[str, str]:
        return dict(rest.split("=", 1) for word, rest in self.instructions if word == "ARG" and "=" in rest)

    def env(self) -> dict[str, str]:
        values = {}
        for word, rest in self.final:
            if word == "ENV":
                values.update(item.split("=", 1) for item in shlex.split(rest))
        return values

    def last(self, instruction: str) -> str:
        return [rest for word, rest in self.final if word == instruction][-1]

    def exposed(self) -> set[int]:
        return {int(port.split("/")[0]) for port in self.last("EXPOSE").split()}

    def healthcheck(self) -> tuple[dict[str, str], list[str]]:
        options, _, command = self.last("HEALTHCHECK").partition("CMD ")
        return dict(option[2:].split("=", 1) for option in options.split()), json.loads(command)


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return Dockerfile(REPO / "Dockerfile")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def bot(compose) -> dict:
    return compose["services"]["nmbot"]


def interpolate(value: str, **variables: str) -> str:
    """Compose's ${NAME}, ${NAME:?message} and ${NAME:-default}, each given a value here."""
    return INTERPOLATION.sub(lambda m: variables[m.group(1)], value)


def documented_settings() -> set[str]:
    """The variables README's Configuration table lists: the settings the bot reads."""
    readme = (REPO / "README.md").read_text()
    table = readme.split("\n## Configuration\n", 1)[1]
    rows = re.findall(r"^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?", table, re.M)
    return {name for row in rows for name in row if name}


# --- the Dockerfile on its own ----------------------------------------------------------------------------

def test_every_stage_starts_from_the_base_image_argument(dockerfile):
    assert dockerfile.args()["BASE_IMAGE"].startswith("python:3.11-slim")
    assert dockerfile.stage_bases == ["${BASE_IMAGE}", "${BASE_IMAGE}"]


def test_the_image_runs_the_bot_as_a_numeric_user(dockerfile):
    user, _, group = dockerfile.last("USER").partition(":")
    assert int(user) > 0 and int(group) > 0
    assert json.loads(dockerfile.last("ENTRYPOINT")) == ["nmbot"]
    assert build_parser().parse_args(json.loads(dockerfile.last("CMD"))).command == "serve"


def test_the_final_stage_installs_nothing(dockerfile):
    """Wheels are installed in the build stage; the final stage copies the result (no compiler, no index)."""
    runs = " ".join(rest for word, rest in dockerfile.final if word == "RUN")
    assert not re.search(r"\b(pip|apt-get|apt|gcc|make)\b", runs)
    assert any(word == "COPY" and rest.startswith("--from=build /opt/nmbot") for word, rest in dockerfile.final)


def test_state_and_cache_are_in_the_volume(dockerfile):
    """With a read-only root file system only the volume (and /tmp) can be written."""
    env, [volume] = dockerfile.env(), json.loads(dockerfile.last("VOLUME"))
    database = make_url(env["NMBOT_DATABASE_URL"])
    assert database.drivername == "sqlite"
    assert PurePosixPath(database.database).parent == PurePosixPath(volume)
    assert PurePosixPath(env["NMBOT_CACHE_DIR"]).is_relative_to(volume)
    assert env["HOME"] == volume == dockerfile.last("WORKDIR")


def test_the_image_listens_on_what_it_exposes(dockerfile):
    env = dockerfile.env()
    settings = Settings.from_env(env)
    assert dockerfile.exposed() == {settings.port, settings.metrics_port}
    assert settings.host == settings.metrics_host == "0.0.0.0"  # reachable through the container's ports


def test_the_health_check_asks_the_probe_port(dockerfile):
    options, command = dockerfile.healthcheck()
    script = command[command.index("-c") + 1]
    assert command[0] == "/opt/nmbot/bin/python"
    assert "'http://127.0.0.1:%s/healthz'" in script
    assert "NMBOT_METRICS_PORT" in script and f"or '{dockerfile.env()['NMBOT_METRICS_PORT']}'" in script
    assert options["timeout"] == "5s" and options["start-period"] == "30s"


# --- compose.yaml against the Dockerfile ------------------------------------------------------------------

def test_compose_builds_the_dockerfile_with_its_default_base(compose, bot, dockerfile):
    assert set(compose["services"]) == {"db", "nmbot"}
    assert (REPO / bot["build"]["context"] / bot["build"].get("dockerfile", "Dockerfile")).exists()
    assert bot["build"]["args"]["BASE_IMAGE"] == dockerfile.args()["BASE_IMAGE"]


def test_compose_publishes_the_ports_the_image_exposes(bot, dockerfile):
    settings = Settings.from_env(dockerfile.env())
    published = {}
    for port in bot["ports"]:
        *host, container = port.split(":")
        published[int(container)] = host
    assert set(published) == dockerfile.exposed()
    assert published[settings.port] == ["3000"]
    assert published[settings.metrics_port] == ["127.0.0.1", "9000"]  # /metrics stays on this machine
    assert build_parser().parse_args(bot["command"]).http  # the Slack port is served in HTTP mode only


def test_compose_keeps_state_in_the_images_volume(compose, bot, dockerfile):
    [volume] = json.loads(dockerfile.last("VOLUME"))
    [mount] = bot["volumes"]
    name, target = mount.split(":")
    assert target == volume and name in compose["volumes"]
    assert bot["read_only"] is True and bot["tmpfs"] == ["/tmp"]


def test_compose_health_check_is_the_images(bot, dockerfile):
    options, command = dockerfile.healthcheck()
    check = bot["healthcheck"]
    assert check["test"] == ["CMD", *command]
    assert {key.replace("_", "-"): check[key] for key in ("interval", "timeout", "start_period", "retries")} == \
        {**options, "retries": int(options["retries"])}


def test_the_bot_uses_the_compose_database(compose, bot):
    db = compose["services"]["db"]
    password_variable = INTERPOLATION.fullmatch(db["environment"]["POSTGRES_PASSWORD"]).group(1)
    url = make_url(interpolate(bot["environment"]["NMBOT_DATABASE_URL"], **{password_variable: "s3cret"}))
    assert url.drivername == "postgresql" and url.host == "db" and url.port == 5432
    assert url.username == db["environment"]["POSTGRES_USER"] and url.password == "s3cret"
    assert url.database == db["environment"]["POSTGRES_DB"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert f"--username={url.username}" in db["healthcheck"]["test"]


def test_compose_and_the_env_example_set_only_real_settings(bot):
    known = documented_settings()
    assert {"SLACK_BOT_TOKEN", "NMBOT_DATABASE_URL", "NMBOT_METRICS_PORT"} <= known
    example = (REPO / "deploy" / "nmbot.env.example").read_text()
    named = set(re.findall(r"^#?([A-Z][A-Z_]+)=", example, re.M)) | set(bot["environment"])
    assert named - SYSTEMD_ONLY <= known, named - SYSTEMD_ONLY - known
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"} <= named


def test_the_env_file_with_the_tokens_is_never_committed(bot):
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    proc = subprocess.run(["git", "check-ignore", "--quiet", bot["env_file"]], cwd=REPO)
    assert proc.returncode == 0
