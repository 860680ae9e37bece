"""The package installs whole: every subpackage listed, the knowledge base and the Slack app manifest
inside, the licence beside; PostgreSQL and Hyperscan are extras; constraints.txt pins what it installs."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")

REPO = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_package_under_bot_is_listed():
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    folders = {p.parent.relative_to(REPO / "bot").parts for p in (REPO / "bot").rglob("__init__.py")}
    found = {".".join(("nmbot", *parts)) for parts in folders}
    assert found | {"nmbot.knowledge"} == listed


def test_the_bot_folder_installs_as_nmbot():
    package_dir = pyproject()["tool"]["setuptools"]["package-dir"]
    assert package_dir == {"nmbot": "bot", "nmbot.knowledge": "knowledge"}
    assert pyproject()["project"]["scripts"]["nmbot"] == "nmbot.cli.main:main"


def test_no_module_named_bot_is_ever_loaded():
    """Loading the code as `bot` beside `nmbot` would register every metric twice; everything imports nmbot."""
    code = ("import sys, nmbot.cli.main, nmbot.slack.app, nmbot.slack.server, nmbot.slack.socket_mode, "
            "nmbot.slack.web, nmbot.report, nmbot.cli.commands\n"
            "print(sorted(m for m in sys.modules if m == 'bot' or m.startswith('bot.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    sources = [p for d in ("bot", "tests", "benchmarks") for p in (REPO / d).rglob("*.py")]
    importing_bot = [str(p.relative_to(REPO)) for p in sources
                     if re.search(r"^\s*(from bot[. ]|import bot\b)", p.read_text(), re.M)]
    assert importing_bot == []


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = re.search(r"<!-- test-command -->\s*```(?:sh|bash)?\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in ci


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The source distribution and the wheel, built in one fresh interpreter by setuptools' build backend, as
    a build frontend (pip, build) asks it for them; the build and the folder they are in."""
    out = tmp_path_factory.mktemp("dist")
    build = ("import sys; from setuptools import build_meta; out = sys.argv[1]; "  # the backend rewrites sys.argv
             "print(build_meta.build_sdist(out)); print(build_meta.build_wheel(out))")
    proc = subprocess.run([sys.executable, "-c", build, str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    return proc, out


def test_wheel_carries_the_knowledge_base(built):
    proc, out = built
    if proc.returncode != 0 and "No module named" in proc.stderr:
        pytest.skip(f"cannot build a wheel here: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    [wheel] = out.glob("nmbot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "nmbot/knowledge/number-masking.yaml" in names
    assert "nmbot/cli/main.py" in names
    assert "nmbot/slack/manifest.yml" in names  # what `nmbot manifest` prints
    assert "nmbot-0.1.0.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith("bot/")]  # nothing called `bot` lands in site-packages


def test_sdist_carries_the_licence_the_manifest_and_the_constraints(built):
    proc, out = built
    assert proc.returncode == 0, proc.stderr
    [sdist] = out.glob("nmbot-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.partition("/")[2] for n in tar.getnames()}
    assert {"LICENSE", "manifest.yml", "constraints.txt", "bot/slack/manifest.yml",
            "knowledge/number-masking.yaml"} <= names


# --- licence and metadata -----------------------------------------------------------------------------

def test_the_licence_is_mit_for_the_nmbot_authors():
    project = pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n") and "Copyright (c) 2026 the nmbot authors" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND" in text
    # PEP 639: the expression says it all; a licence classifier beside it is refused by build tools.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_the_documentation_link_names_a_file_that_exists():
    urls = pyproject()["project"]["urls"]
    assert (REPO / urls["Documentation"]).is_file()


# --- extras -------------------------------------------------------------------------------------------

def requirements(group: str | None = None) -> list[Requirement]:
    project = pyproject()["project"]
    texts = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return [Requirement(t) for t in texts]


def test_postgresql_and_hyperscan_are_extras():
    assert not {r.name for r in requirements()} & {"psycopg", "hyperscan"}
    assert [str(r) for r in requirements("postgres")] == ["psycopg[binary]>=3.1"]
    assert {r.name for r in requirements("fast")} == {"hyperscan"}
    # CI installs '.[test]': the PostgreSQL tests and the Hyperscan comparisons must have their libraries.
    [itself] = [r for r in requirements("test") if r.name == "nmbot"]
    assert itself.extras == {"postgres", "fast"}


# Where hyperscan publishes wheels (0.9.1: CPython 3.10-3.14; manylinux x86_64 and aarch64, musllinux,
# macOS x86_64 and arm64, Windows AMD64), and machines with none, where `pip install 'nmbot[fast]'` must
# not try to build it.
WHEELS = [("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "x86_64"), ("darwin", "arm64"),
          ("win32", "AMD64")]
NO_WHEELS = [("linux", "ppc64le"), ("linux", "s390x"), ("linux", "armv7l"), ("linux", "i686"), ("win32", "ARM64"),
             ("win32", "x86"), ("freebsd14", "amd64"), ("cygwin", "x86_64")]


def fast_extra_installs_hyperscan(sys_platform: str, machine: str, implementation: str = "CPython") -> bool:
    env = {**default_environment(), "sys_platform": sys_platform, "platform_machine": machine,
           "platform_python_implementation": implementation, "extra": "fast"}
    return any(r.marker.evaluate(env) for r in requirements("fast"))


@pytest.mark.parametrize("sys_platform, machine", WHEELS)
def test_the_fast_extra_brings_hyperscan_where_it_has_wheels(sys_platform, machine):
    assert fast_extra_installs_hyperscan(sys_platform, machine)


@pytest.mark.parametrize("sys_platform, machine", NO_WHEELS)
def test_the_fast_extra_leaves_hyperscan_out_where_it_has_no_wheels(sys_platform, machine):
    assert not fast_extra_installs_hyperscan(sys_platform, machine)


def test_the_fast_extra_leaves_hyperscan_out_on_pypy():
    # Wheels for PyPy 3.10 only: newer PyPy would build from source.
    assert not fast_extra_installs_hyperscan("linux", "x86_64", implementation="PyPy")


def test_the_test_environment_has_what_the_extras_bring():
    """The scanner's comparisons of Hyperscan with the plain prefilter compare two things only if
    Hyperscan is there, wherever the fast extra brings it."""
    assert importlib.util.find_spec("psycopg") is not None
    here = {**default_environment(), "extra": "fast"}
    if any(r.marker.evaluate(here) for r in requirements("fast")):
        assert importlib.util.find_spec("hyperscan") is not None


# --- constraints.txt ----------------------------------------------------------------------------------

def pins() -> dict[str, str]:
    lines = [line.strip() for line in (REPO / "constraints.txt").read_text().splitlines()]
    found = {}
    for line in lines:
        if not line or line.startswith("#"):
            continue
        pin = Requirement(line)
        [spec] = pin.specifier
        assert spec.operator == "==", line
        found[canonicalize_name(pin.name)] = spec.version
    return found


def test_constraints_pin_every_runtime_dependency_within_pyprojects_range():
    pinned = pins()
    for requirement in requirements() + requirements("postgres") + requirements("fast"):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"constraints.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (requirement, pinned[name])


def test_constraints_pin_what_the_extras_of_dependencies_bring():
    pinned = pins()
    for requirement in requirements() + requirements("postgres"):
        for extra in requirement.extras:  # psycopg[binary] brings psycopg-binary
            brought = [Requirement(t) for t in importlib.metadata.requires(requirement.name) or []]
            names = {canonicalize_name(r.name) for r in brought
                     if r.marker is not None and r.marker.evaluate({**default_environment(), "extra": extra})}
            assert names and names <= set(pinned), (requirement, names - set(pinned))


def test_constraints_pin_nothing_only_the_tests_use():
    test_only = {canonicalize_name(r.name) for r in requirements("test")} - {"nmbot"}
    assert not test_only & set(pins())
