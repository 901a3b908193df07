"""Run deploy/Dockerfile's build steps without Docker, and start its CMD.

These machines (and CI) have the Docker client but no daemon, so `docker build`
cannot run here. This script does what the build would, in a scratch directory
standing in for the image's filesystem:

- FROM: the base image's Python must be one the project supports.
- ENV and WORKDIR apply; absolute paths are re-rooted under the scratch directory.
- COPY copies from the project root, so a file the build needs but the
  Dockerfile forgets to copy fails here as it would in Docker.
- RUN runs each command with `bash -c` in a fresh virtualenv that stands in for
  the base image's Python. To keep CI cheap, that virtualenv sees this
  interpreter's installed packages (a `.pth` file), so `pip install` resolves the
  extras against them and builds only the project itself; it still builds the
  wheel from the copied files and installs it into the scratch environment.
- CMD starts the code server and waits for `dagster api grpc-health-check`. The
  scratch "container" shares the host's network, so it listens on loopback and a
  free port instead of the EXPOSEd one.

Usage: python deploy/check_dockerfile.py [path/to/Dockerfile]
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HEALTH_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 10
CONSOLE_SCRIPT = """#!{python}
import sys
from importlib.metadata import EntryPoint

sys.exit(EntryPoint(name="", group="console_scripts", value="{value}").load()())
"""
PORT_OPTIONS = ("--port", "-p")
HOST_OPTIONS = ("--host", "-h")
LOOPBACK = "127.0.0.1"

log = logging.getLogger("check_dockerfile")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int


def parse(text: str) -> list[Instruction]:
    """Dockerfile instructions, continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = ""
    if pending:
        raise ValueError(f"Dockerfile ends inside a continued instruction (line {start})")
    return instructions


class ScratchImage:
    """The image's filesystem, environment and Python, under one scratch directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.env: dict[str, str] = {}
        self.workdir = root
        self.exposed: int | None = None
        self.cmd: list[str] = []

    def reroot(self, path: str) -> Path:
        return self.root / path.lstrip("/") if path.startswith("/") else self.workdir / path

    def expand(self, value: str) -> str:
        """`$VAR` and `${VAR}` from the image's ENV, as Docker substitutes them."""
        return re.sub(r"\$\{?(\w+)\}?", lambda match: self.env.get(match[1], match[0]), value)

    def process_env(self) -> dict[str, str]:
        path = f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
        return {**env, **self.env, "PATH": path, "VIRTUAL_ENV": str(self.venv)}

    def create_python(self) -> None:
        """A virtualenv for the base image's Python that also sees our installed packages.

        Their console scripts (`dagster`, `celery`, ...) are written into its `bin`
        as pip would have, so RUN and CMD find them there, running this Python; the
        base image's own (`pip`) stay as they are.
        """
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        site = Path(
            sysconfig.get_path("purelib", vars={"base": str(self.venv), "platbase": str(self.venv)})
        )
        ours = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
        (site / "zz_check_dockerfile_overlay.pth").write_text("\n".join(ours) + "\n")
        python = self.venv / "bin" / "python"
        for distribution in metadata.distributions(path=ours):
            for entry_point in distribution.entry_points.select(group="console_scripts"):
                script = self.venv / "bin" / entry_point.name
                if script.exists():
                    continue
                script.write_text(CONSOLE_SCRIPT.format(python=python, value=entry_point.value))
                script.chmod(0o755)

    def apply(self, instruction: Instruction) -> None:
        handler = getattr(self, f"do_{instruction.keyword.lower()}", None)
        if handler is None:
            raise ValueError(f"line {instruction.line}: {instruction.keyword} is not supported")
        log.info("line %d: %s %s", instruction.line, instruction.keyword, instruction.arguments)
        handler(instruction.arguments)

    def do_from(self, arguments: str) -> None:
        image = arguments.split()[0]
        match = re.fullmatch(r"python:(\d+\.\d+)[\w.-]*", image)
        if not match:
            raise ValueError(f"FROM {image}: expected an official python:X.Y image")
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
        supported = SpecifierSet(pyproject["project"]["requires-python"])
        if f"{match[1]}.0" not in supported:
            raise ValueError(f"FROM {image}: Python {match[1]} is outside {supported}")
        self.create_python()

    def do_env(self, arguments: str) -> None:
        for pair in shlex.split(arguments):
            key, _, value = pair.partition("=")
            value = self.expand(value)
            self.env[key] = str(self.reroot(value)) if value.startswith("/") else value

    def do_workdir(self, arguments: str) -> None:
        self.workdir = self.reroot(self.expand(arguments))
        self.workdir.mkdir(parents=True, exist_ok=True)

    def do_copy(self, arguments: str) -> None:
        *sources, destination = shlex.split(arguments)
        target = self.reroot(self.expand(destination))
        for source in sources:
            origin = ROOT / source
            if not origin.exists():
                raise FileNotFoundError(f"COPY {source}: not in the build context")
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True)
            else:
                if destination.endswith("/"):
                    target.mkdir(parents=True, exist_ok=True)
                dest = target / origin.name if target.is_dir() else target
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, dest)

    def do_run(self, arguments: str) -> None:
        subprocess.run(
            ["bash", "-c", arguments], cwd=self.workdir, env=self.process_env(), check=True
        )

    def do_expose(self, arguments: str) -> None:
        self.exposed = int(arguments.split("/")[0])

    def do_cmd(self, arguments: str) -> None:
        self.cmd = json.loads(arguments)

    def serve_cmd(self) -> None:
        """Start CMD on a free port and wait until the code server answers a health check."""
        port = _free_port()
        command = list(self.cmd)
        for index in range(1, len(command)):
            if command[index - 1] in PORT_OPTIONS and command[index] == str(self.exposed):
                command[index] = str(port)
            elif command[index - 1] in HOST_OPTIONS:
                command[index] = LOOPBACK
        if str(port) not in command:
            raise ValueError(f"CMD {self.cmd} must serve on the EXPOSEd port {self.exposed}")
        env = self.process_env()
        server = subprocess.Popen(command, cwd=self.workdir, env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
            while time.monotonic() < deadline:
                if server.poll() is not None:
                    raise RuntimeError(f"CMD exited with {server.returncode}")
                probe = subprocess.run(
                    ["dagster", "api", "grpc-health-check", "--port", str(port)],
                    env=env,
                    capture_output=True,
                )
                if probe.returncode == 0:
                    log.info("CMD serves on port %d (EXPOSE %d)", port, self.exposed)
                    return
                time.sleep(1)
            raise TimeoutError(f"CMD did not pass its health check in {HEALTH_TIMEOUT_SECONDS}s")
        finally:
            _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group; SIGKILL if it has not gone in a while.

    The gRPC server's graceful stop waits up to 60 s for calls in flight, and a
    process left behind would keep this script's output pipes open.
    """
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check(dockerfile: Path) -> None:
    instructions = parse(dockerfile.read_text())
    if not instructions or instructions[0].keyword != "FROM":
        raise ValueError("the Dockerfile must start with FROM")
    with tempfile.TemporaryDirectory(prefix="check-dockerfile-") as tmp:
        image = ScratchImage(Path(tmp))
        for instruction in instructions:
            image.apply(instruction)
        image.serve_cmd()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    check(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCKERFILE)
    log.info("all build steps passed")
