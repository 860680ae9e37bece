"""Building the Dockerfile's image and running it, with podman, on a machine that reaches no image registry.

The base image is made from Debian's packages (debootstrap: a minimal root with python3 and its venv module,
then `podman import`) and kept in podman's store under BASE_TAG, so later runs reuse it; the Dockerfile gets
it as its BASE_IMAGE build argument. NMBOT_TEST_BASE_IMAGE names another base instead (python:3.11-slim
where a registry is reachable). The project goes in as wheels built on the host, as the Dockerfile says, and
the build runs with no network.

Containers share the host's network (each on free loopback ports) and run under runc with explicit ulimits:
the only set-up that works on every machine here (crun and cgroup limits do not).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from helpers import poll_until

REPO = Path(__file__).resolve().parents[2]
BASE_TAG = "localhost/nmbot-test-base:bookworm-1"  # change the tag when BASE_PACKAGES change
BASE_SUITE = "bookworm"  # Python 3.11, like the default python:3.11-slim
BASE_PACKAGES = "python3,python3-venv"
DEBIAN_MIRROR = os.environ.get("NMBOT_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
ENGINE_FLAGS = ["--runtime", "runc"]
RUN_FLAGS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "host"]
BUILD_SECONDS = 900
COMMAND_SECONDS = 120


def podman() -> str | None:
    return shutil.which("podman")


def why_no_engine() -> str | None:
    """Why images cannot be built and run here, or None when they can."""
    if podman() is None:
        return "no container engine: install podman and runc (apt-get install podman runc debootstrap)"
    if shutil.which("runc") is None:
        return "podman is installed but runc is not (apt-get install runc)"
    return None


def engine(*args: str, timeout: float = COMMAND_SECONDS, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """`podman ARGS`, its output as text; a failure shows what podman said."""
    proc = subprocess.run([podman(), *ENGINE_FLAGS, *args], capture_output=True, text=True, timeout=timeout,
                          **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:3])} … failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def image_exists(tag: str) -> bool:
    return engine("image", "exists", tag, check=False).returncode == 0


def python_version() -> str:
    return "%d.%d" % sys.version_info[:2]


# --- the base image ------------------------------------------------------------------------------------

def base_image() -> str:
    """The tag of a base image with python3 and venv: given, cached, or made now from Debian's packages.
    Raises LookupError (why) when none can be had here."""
    given = os.environ.get("NMBOT_TEST_BASE_IMAGE")
    if given:
        return given
    if image_exists(BASE_TAG):
        return BASE_TAG
    if shutil.which("debootstrap") is None:
        raise LookupError("no base image and no debootstrap to make one (apt-get install debootstrap), "
                          "or name one in NMBOT_TEST_BASE_IMAGE")
    if os.geteuid() != 0:
        raise LookupError("debootstrap makes the base image as root only; run as root or set NMBOT_TEST_BASE_IMAGE")
    with tempfile.TemporaryDirectory(prefix="nmbot-base-") as work:
        root = Path(work) / "root"
        proc = subprocess.run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", BASE_SUITE,
                               str(root), DEBIAN_MIRROR], capture_output=True, text=True, timeout=BUILD_SECONDS)
        if proc.returncode != 0:
            raise AssertionError(f"debootstrap failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):  # downloads the image does not need
            for leftover in (root / cache).glob("*"):
                if leftover.is_file():
                    leftover.unlink()
        with subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE) as tar:
            engine("import", "--change", 'CMD ["python3"]', "-", BASE_TAG, stdin=tar.stdout, timeout=BUILD_SECONDS)
        if tar.returncode != 0:
            raise AssertionError("tar could not read the debootstrapped root")
    return BASE_TAG


def python_of(image: str) -> str:
    proc = engine("run", "--rm", *RUN_FLAGS, "--entrypoint", "python3", image, "-c",
                  "import sys; print('%d.%d' % sys.version_info[:2])")
    return proc.stdout.strip()


# --- the project's image --------------------------------------------------------------------------------

def build_wheelhouse(into: Path) -> None:
    """nmbot and every dependency as wheels, built by this interpreter's pip (the Dockerfile's first step)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(into),
                           f"{REPO}[postgres]"],
                          capture_output=True, text=True, timeout=BUILD_SECONDS)
    if proc.returncode != 0:
        raise AssertionError(f"pip wheel failed:\n{(proc.stdout + proc.stderr)[-3000:]}")


def build_image(base: str, tag: str) -> None:
    """The Dockerfile's image, from a context holding only the wheelhouse (and the .dockerignore), offline."""
    with tempfile.TemporaryDirectory(prefix="nmbot-context-") as context:
        build_wheelhouse(Path(context) / "wheelhouse")
        shutil.copy(REPO / ".dockerignore", context)
        engine("build", "--format", "docker", "--layers=false", "--network", "none",
               "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
               "--build-arg", f"BASE_IMAGE={base}", "--tag", tag, "--file", str(REPO / "Dockerfile"), context,
               timeout=BUILD_SECONDS)


def remove_image(tag: str) -> None:
    engine("rmi", "--force", tag, check=False)


# --- a running container ---------------------------------------------------------------------------------

@dataclass
class Container:
    """`podman run -d` of `image`; `env` passed by name (`-e NAME`), so no secret shows on a command line."""

    image: str
    args: list[str]
    env: dict[str, str]
    flags: list[str] = field(default_factory=list)
    name: str = field(default_factory=lambda: f"nmbot-test-{uuid.uuid4().hex[:10]}")

    def start(self) -> "Container":
        names = [flag for name in self.env for flag in ("-e", name)]
        engine("run", "--detach", "--name", self.name, *RUN_FLAGS, *self.flags, *names, self.image, *self.args,
               env={**os.environ, **self.env})
        return self

    def logs(self) -> str:
        proc = engine("logs", self.name, check=False)
        return proc.stdout + proc.stderr

    def inspect(self, template: str) -> str:
        return engine("inspect", "--format", template, self.name).stdout.strip()

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def signal(self, name: str) -> None:
        engine("kill", "--signal", name, self.name)

    def exec(self, *command: str) -> subprocess.CompletedProcess:
        return engine("exec", self.name, *command, check=False)

    def stop(self, timeout: int = 30) -> int:
        """SIGTERM, then the exit status once it has stopped by itself (SIGKILL after `timeout` seconds)."""
        engine("stop", "--time", str(timeout), self.name, timeout=timeout + 30)
        return int(self.inspect("{{.State.ExitCode}}"))

    def remove(self) -> None:
        engine("rm", "--force", "--volumes", self.name, check=False)


def wait_for(condition, what: str, container: Container, timeout: float = 60.0):
    """Poll `condition()` until it returns something true (a refused connection is the container starting);
    fail with the container's log after `timeout`, or as soon as the container has stopped."""
    def met():
        try:
            result = condition()
        except OSError:
            result = None
        if not result and not container.running():
            raise AssertionError(f"the container stopped before {what}; its log:\n{container.logs()[-4000:]}")
        return result

    return poll_until(met, lambda: f"{what}; the container's log:\n{container.logs()[-4000:]}", timeout, every=0.1)
