"""Render a local page in headless Debian Chromium: the text a reader sees, and a screenshot.

The page must render from the file alone: no host resolves, and Chromium's own background
traffic (updates, sync) is off, so a page that loads anything from the network shows it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Let the page's scripts finish rendering before the DOM or the picture is taken.
    "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=30000",
    # No host resolves: the page must render from the file alone.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


class _Text(HTMLParser):
    """The text a reader sees: everything outside script and style elements."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def executable() -> str:
    """Chromium's path; the calling test is skipped where it is not installed."""
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    return found


def render(
    page: str,
    screenshot: Path,
    *,
    size: str = "1280,1600",
    timeout: int = 180,
    rendering: str | None = None,
    attempts: int = 3,
) -> str:
    """The visible text of `page` (a URL), after saving its picture to `screenshot`.

    A page whose scripts still show `rendering` (a placeholder such as Redoc's "Loading...")
    is rendered again, up to `attempts` times: Chromium's virtual time does not wait for a
    script that is slow on a loaded machine, so the DOM can be taken before it is done.
    Fails the calling test when Chromium fails or the picture is empty.
    """
    chromium = executable()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        flags = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}"]
        for _ in range(attempts):
            dom = subprocess.run(
                [*flags, "--dump-dom", page],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            assert dom.returncode == 0, dom.stderr[-2000:]
            if rendering is None or rendering not in _visible(dom.stdout):
                break
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.unlink(missing_ok=True)
        picture = subprocess.run(
            [*flags, f"--screenshot={screenshot}", page],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert picture.returncode == 0 and screenshot.stat().st_size > 5_000, picture.stderr[-2000:]
    return _visible(dom.stdout)


def _visible(html: str) -> str:
    reader = _Text()
    reader.feed(html)
    return " ".join(" ".join(reader.parts).split())
