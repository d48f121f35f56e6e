"""The browser step of `make test` decides without installing anything; these ask it about
machines of every kind."""

import pytest

from scripts.ensure_browser import (
    DEBIAN_CHROMIUM,
    WHAT_TO_INSTALL,
    AptInstall,
    GiveUp,
    Machine,
    PlaywrightInstall,
    Use,
    carry_out,
    decide,
)

PLAYWRIGHT = "/root/.cache/ms-playwright/chromium-1/chrome-linux64/chrome"


def test_debians_chromium_when_present_installs_nothing():
    machine = Machine(debian_chromium=True, root=True, apt_get=True, playwright_chromium=PLAYWRIGHT)
    assert decide(machine) == [Use(DEBIAN_CHROMIUM, "Debian's chromium")]


def test_a_chromium_path_set_by_hand_wins_or_is_refused_plainly():
    assert decide(Machine(requested="/opt/c", requested_exists=True, debian_chromium=True)) == [
        Use("/opt/c", "CHROMIUM_PATH")
    ]
    [give_up] = decide(Machine(requested="/opt/c", debian_chromium=True, root=True, apt_get=True))
    assert isinstance(give_up, GiveUp) and "CHROMIUM_PATH=/opt/c" in give_up.message


def test_a_playwright_chromium_downloaded_earlier_is_used():
    machine = Machine(playwright_chromium=PLAYWRIGHT, playwright_chromium_exists=True, root=True)
    assert decide(machine) == [Use(PLAYWRIGHT, "Playwright's Chromium")]


def test_root_with_apt_installs_debians_chromium_then_falls_back_to_playwright():
    machine = Machine(root=True, apt_get=True, playwright_chromium=PLAYWRIGHT)
    assert decide(machine) == [
        AptInstall(sudo=False),
        PlaywrightInstall(PLAYWRIGHT),
        GiveUp(WHAT_TO_INSTALL),
    ]


def test_passwordless_sudo_installs_through_sudo():
    machine = Machine(passwordless_sudo=True, apt_get=True, playwright_chromium=PLAYWRIGHT)
    assert decide(machine)[0] == AptInstall(sudo=True)


@pytest.mark.parametrize(
    "machine",
    [
        Machine(apt_get=True, playwright_chromium=PLAYWRIGHT),  # no root, no sudo
        Machine(root=True, playwright_chromium=PLAYWRIGHT),  # not Debian: no apt-get
        Machine(passwordless_sudo=True, playwright_chromium=PLAYWRIGHT),
    ],
    ids=["no-rights", "no-apt", "sudo-without-apt"],
)
def test_a_machine_that_cannot_install_packages_tries_playwright(machine):
    assert decide(machine) == [PlaywrightInstall(PLAYWRIGHT), GiveUp(WHAT_TO_INSTALL)]


def test_with_no_way_at_all_it_says_what_to_install_in_one_line():
    assert decide(Machine(apt_get=True)) == [GiveUp(WHAT_TO_INSTALL)]
    assert "\n" not in WHAT_TO_INSTALL
    assert "apt-get install chromium fonts-dejavu-core" in WHAT_TO_INSTALL
    assert "playwright install chromium" in WHAT_TO_INSTALL


class Installers:
    """Stands in for apt-get and Playwright: records calls, succeeds or fails as told."""

    def __init__(self, apt: str | None = None, playwright: str | None = None):
        self.results = {"apt": apt, "playwright": playwright}
        self.calls = []

    def apt(self, step):
        self.calls.append(step)
        return self.results["apt"]

    def playwright(self, step):
        self.calls.append(step)
        return self.results["playwright"]

    def run(self, steps):
        return carry_out(
            steps, apt=self.apt, playwright=self.playwright, describe=lambda path: "Chromium 1.2"
        )


def test_a_present_browser_is_named_in_one_line_and_nothing_runs(capsys):
    fake = Installers()
    assert fake.run(decide(Machine(debian_chromium=True))) == DEBIAN_CHROMIUM
    assert fake.calls == []
    assert capsys.readouterr().err.splitlines() == [
        "browser: Debian's chromium at /usr/bin/chromium (Chromium 1.2)"
    ]


def test_a_successful_apt_install_stops_there(capsys):
    fake = Installers(apt=DEBIAN_CHROMIUM, playwright=PLAYWRIGHT)
    steps = decide(Machine(root=True, apt_get=True, playwright_chromium=PLAYWRIGHT))
    assert fake.run(steps) == DEBIAN_CHROMIUM
    assert fake.calls == [AptInstall(sudo=False)]
    assert "just installed" in capsys.readouterr().err


def test_a_failed_apt_install_falls_back_to_playwright():
    fake = Installers(apt=None, playwright=PLAYWRIGHT)
    steps = decide(Machine(root=True, apt_get=True, playwright_chromium=PLAYWRIGHT))
    assert fake.run(steps) == PLAYWRIGHT
    assert fake.calls == [AptInstall(sudo=False), PlaywrightInstall(PLAYWRIGHT)]


def test_when_every_way_fails_the_last_line_says_what_to_install(capsys):
    fake = Installers()
    steps = decide(Machine(root=True, apt_get=True, playwright_chromium=PLAYWRIGHT))
    assert fake.run(steps) is None
    assert capsys.readouterr().err.splitlines()[-1] == f"browser: {WHAT_TO_INSTALL}"


def test_make_test_and_ci_take_the_browser_from_this_step():
    from .support import BASE_DIR

    makefile = (BASE_DIR / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("scripts/ensure_browser.py") < recipe.index("-m pytest")
    assert 'CHROMIUM_PATH="$$browser"' in recipe
    ci = (BASE_DIR / ".ci" / "run").read_text()
    assert "make browser" in ci and "apt-get" not in ci
