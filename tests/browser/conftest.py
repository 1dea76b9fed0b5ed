"""A real JupyterLab on loopback, and Debian's Chromium driven headless by Playwright.

Nothing here downloads a browser: Playwright launches the apt-installed Chromium
(``apt-get install chromium``) through ``executable_path``. The server runs in
``sys.executable``'s environment with a random token, on 127.0.0.1 only, with its own
root, runtime, data and config folders (and HOME), so no user configuration leaks in.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = Path(__file__).with_name("widgets_demo.ipynb")
#: Screenshots and the browser console of the last run (``artifacts/`` is git-ignored).
ARTIFACTS = REPO / "artifacts" / "browser"
#: The notebook is the browser test's input, not a test of its own: ``--nbval`` would run it in the
#: repository and leave its database here.
collect_ignore = [NOTEBOOK.name]
#: Where Debian's package puts Chromium.
DEBIAN_CHROMIUM = "/usr/bin/chromium"
INSTALL_CHROMIUM = "apt-get update && apt-get install -y chromium"
#: How Chromium runs headless on a closed network: no background connections, no first-run work.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Seconds JupyterLab gets to answer ``/api/status`` (its first start on 2 cores takes 10-20 s).
SERVER_START_TIMEOUT = 120
#: User settings: no news or update checks (no toasts over the page, no outside requests), and
#: every cell attached to the DOM (JupyterLab's default windowing skips painting offscreen cells).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
#: Variables that would point the server at a user's own configuration or token.
LEAKY_VARIABLES = (
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_TOKEN",
    "JUPYTER_TOKEN_FILE",
    "JUPYTERLAB_SETTINGS_DIR",
    "JUPYTERLAB_WORKSPACES_DIR",
    "JUPYTERLAB_DIR",
    "JUPYTER_PREFER_ENV_PATH",
)


def find_chromium() -> str | None:
    """Path of the Chromium to drive: ``chromium`` on PATH, else Debian's ``/usr/bin/chromium``; None if neither."""
    found = shutil.which("chromium")
    if found:
        return found
    return DEBIAN_CHROMIUM if os.access(DEBIAN_CHROMIUM, os.X_OK) else None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path; fails (never skips) with how to install it."""
    path = find_chromium()
    if path is None:
        pytest.fail(
            "The browser tests need Debian's Chromium, and it is missing (no `chromium` on PATH, no "
            f"{DEBIAN_CHROMIUM}). Install it with: {INSTALL_CHROMIUM}. Playwright never downloads a browser here.",
            pytrace=False,
        )
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab: where it listens, its token, its folders and its process."""

    port: int
    token: str
    root: Path
    runtime: Path
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, token: bool = True) -> str:
        """``path`` on the server, with the token in the query unless ``token`` is false."""
        joiner = "&" if "?" in path else "?"
        return f"{self.base}{path}{joiner}token={self.token}" if token else f"{self.base}{path}"

    def get(self, path: str, token: bool = True) -> tuple[int, bytes]:
        """Status and body of a GET (HTTP errors are answers too)."""
        try:
            with urllib.request.urlopen(self.url(path, token), timeout=60) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def log_tail(self, lines: int = 40) -> str:
        """The end of what the server printed."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def shut_down_kernels(self) -> None:
        """Ask the server to shut down every kernel (so none outlives it)."""
        status, body = self.get("/api/kernels")
        if status != 200:
            return
        for kernel in json.loads(body):
            request = urllib.request.Request(self.url(f"/api/kernels/{kernel['id']}"), method="DELETE")
            with contextlib.suppress(urllib.error.URLError, OSError):  # the server is going away anyway
                urllib.request.urlopen(request, timeout=60).close()


def isolated_environment(home: Path) -> dict[str, str]:
    """This environment, with every Jupyter and IPython folder under ``home`` and the repository importable."""
    env = {name: value for name, value in os.environ.items() if name not in LEAKY_VARIABLES}
    folders = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "IPYTHONDIR": home / "ipython",
        "XDG_CONFIG_HOME": home / "xdg-config",
        "XDG_DATA_HOME": home / "xdg-data",
        "XDG_CACHE_HOME": home / "xdg-cache",
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    settings = folders["JUPYTER_CONFIG_DIR"] / "lab" / "user-settings"
    for relative, values in LAB_SETTINGS.items():
        (settings / relative).parent.mkdir(parents=True, exist_ok=True)
        (settings / relative).write_text(json.dumps(values))
    # the kernel imports this working tree's prorch_nb (installed or not)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the server shuts its kernels down), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """``python -m jupyterlab`` on a free loopback port with a random token, the test notebook in its root."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root, home = base / "root", base / "home"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    env = isolated_environment(home)
    port, token = free_port(), secrets.token_hex(24)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_remote_access=False",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # no PyPI look-ups from the extension manager
    ]
    if os.geteuid() == 0:  # CI runs as root; jupyter_server refuses that unless told
        command.append("--ServerApp.allow_root=True")
    log = base / "jupyterlab.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = LabServer(port, token, root, Path(env["JUPYTER_RUNTIME_DIR"]), log, process)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                if server.get("/api/status")[0] == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        if process.poll() is None:
            server.shut_down_kernels()
        stop(process)


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[object]:
    """Debian's Chromium, headless, launched by Playwright (a new empty profile per launch)."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The browser tests need Playwright's Python package: pip install playwright", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def artifacts() -> Path:
    """``artifacts/browser/`` in the repository (git-ignored), for screenshots and the console log."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
