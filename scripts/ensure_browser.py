"""Find or install the Chromium the browser tests drive, and print its path.

`make test` (and so `.ci/run`) runs this before the suite, with the project's venv Python:

1. a Chromium already there: CHROMIUM_PATH when set, else Debian's /usr/bin/chromium, else one
   Playwright downloaded earlier;
2. else, when this machine may install packages (root or passwordless sudo, and apt-get),
   Debian's chromium with the fonts the screenshots need;
3. else Playwright's own `playwright install chromium`, where that can download;
4. else one line saying what to install, and exit status 1.

The path goes to stdout, for CHROMIUM_PATH; one line saying which browser (or what went wrong)
goes to stderr. `decide` holds the choice and does nothing itself, so tests can ask it about any
machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

DEBIAN_CHROMIUM = "/usr/bin/chromium"
APT_PACKAGES = ("chromium", "fonts-dejavu-core")
WHAT_TO_INSTALL = (
    "no Chromium for the browser tests: install Debian's chromium "
    f"(apt-get install {' '.join(APT_PACKAGES)}), or run `.venv/bin/playwright install "
    "chromium` where it can download, or set CHROMIUM_PATH to a Chromium"
)


@dataclass(frozen=True)
class Machine:
    """The facts the choice depends on."""

    requested: str | None = None  # CHROMIUM_PATH, when the person set it
    requested_exists: bool = False
    debian_chromium: bool = False  # /usr/bin/chromium exists
    playwright_chromium: str | None = None  # where Playwright keeps its Chromium, if installed
    playwright_chromium_exists: bool = False
    root: bool = False
    passwordless_sudo: bool = False
    apt_get: bool = False


@dataclass(frozen=True)
class Use:
    path: str
    what: str


@dataclass(frozen=True)
class AptInstall:
    sudo: bool


@dataclass(frozen=True)
class PlaywrightInstall:
    path: str


@dataclass(frozen=True)
class GiveUp:
    message: str


Step = Use | AptInstall | PlaywrightInstall | GiveUp


def decide(machine: Machine) -> list[Step]:
    """What to try, in order; the first step that yields a browser wins, GiveUp ends the list."""
    if machine.requested:
        if machine.requested_exists:
            return [Use(machine.requested, "CHROMIUM_PATH")]
        return [GiveUp(f"CHROMIUM_PATH={machine.requested} does not exist; unset it or fix it")]
    if machine.debian_chromium:
        return [Use(DEBIAN_CHROMIUM, "Debian's chromium")]
    if machine.playwright_chromium and machine.playwright_chromium_exists:
        return [Use(machine.playwright_chromium, "Playwright's Chromium")]
    steps: list[Step] = []
    if machine.apt_get and (machine.root or machine.passwordless_sudo):
        steps.append(AptInstall(sudo=not machine.root))
    if machine.playwright_chromium:
        steps.append(PlaywrightInstall(machine.playwright_chromium))
    steps.append(GiveUp(WHAT_TO_INSTALL))
    return steps


def look() -> Machine:
    """The facts about this machine (Playwright is asked only when Debian's chromium is absent)."""
    requested = os.environ.get("CHROMIUM_PATH") or None
    debian = os.path.exists(DEBIAN_CHROMIUM)
    if requested or debian:
        return Machine(
            requested=requested,
            requested_exists=bool(requested) and os.path.exists(requested),
            debian_chromium=debian,
        )
    playwright_path = _playwright_chromium()
    root = os.geteuid() == 0
    return Machine(
        playwright_chromium=playwright_path,
        playwright_chromium_exists=bool(playwright_path) and os.path.exists(playwright_path),
        root=root,
        passwordless_sudo=not root and _passwordless_sudo(),
        apt_get=shutil.which("apt-get") is not None,
    )


def _playwright_chromium() -> str | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as playwright:
            return playwright.chromium.executable_path
    except Exception:  # noqa: BLE001 - no driver means no Playwright fallback, nothing more
        return None


def _passwordless_sudo() -> bool:
    if shutil.which("sudo") is None:
        return False
    try:
        check = subprocess.run(["sudo", "-n", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return check.returncode == 0


def _quietly(argv: list[str]) -> str | None:
    """Run argv; None when it worked, else the last lines it printed."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if done.returncode == 0:
        return None
    return " / ".join((done.stdout + done.stderr).strip().splitlines()[-3:])


def install_with_apt(step: AptInstall) -> str | None:
    """Debian's chromium and fonts; the path, or None when apt-get failed."""
    say(
        f"browser: Chromium is missing; installing Debian's {' and '.join(APT_PACKAGES)} "
        f"with {'sudo ' if step.sudo else ''}apt-get (once, about a minute)"
    )
    apt = [*(["sudo", "-n"] if step.sudo else []), "env", "DEBIAN_FRONTEND=noninteractive"]
    apt += ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    failed = _quietly([*apt, "update", "-qq"]) or _quietly(
        [*apt, "install", "-y", "-qq", *APT_PACKAGES]
    )
    if failed or not os.path.exists(DEBIAN_CHROMIUM):
        say(f"browser: apt-get could not install chromium ({failed or 'no /usr/bin/chromium'})")
        return None
    return DEBIAN_CHROMIUM


def install_with_playwright(step: PlaywrightInstall) -> str | None:
    say("browser: installing Playwright's Chromium (playwright install chromium)")
    failed = _quietly([sys.executable, "-m", "playwright", "install", "chromium"])
    if failed or not os.path.exists(step.path):
        say(f"browser: playwright install chromium failed ({failed or 'nothing installed'})")
        return None
    return step.path


def version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def carry_out(
    steps: list[Step],
    *,
    apt: Callable[[AptInstall], str | None] = install_with_apt,
    playwright: Callable[[PlaywrightInstall], str | None] = install_with_playwright,
    describe: Callable[[str], str] = version,
) -> str | None:
    """Try the steps in order: the browser's path, or None after saying what to install."""
    for step in steps:
        match step:
            case Use(path, what):
                found, how = path, what
            case AptInstall():
                found, how = apt(step), "Debian's chromium, just installed"
            case PlaywrightInstall():
                found, how = playwright(step), "Playwright's Chromium, just installed"
            case GiveUp(message):
                say(f"browser: {message}")
                return None
        if found:
            name = describe(found)
            say(f"browser: {how} at {found}" + (f" ({name})" if name else ""))
            return found
    return None


def main() -> int:
    path = carry_out(decide(look()))
    if path is None:
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
