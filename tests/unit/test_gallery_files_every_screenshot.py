"""Every screenshot the browser tests name says whose screen it is, so
`make screenshots` files it under that person (tests/e2e/gallery.py), not
under the operator by default."""

import re
from pathlib import Path

from tests.e2e.gallery import said_who
from tests.e2e.harness import ROOT

# screenshot(page, "name") and screenshot(page, f"customer-{language}-…"): the
# literal part before any placeholder. Names that start with a placeholder
# (test_console_accessibility's f"{who}-…") are checked where `who` is given.
SCREENSHOT_NAME = re.compile(r'\bscreenshot\(\s*\w+,\s*f?"([^"{]+)')
AUDIT_WHO = re.compile(r'\baudit\([^\n]*\bwho="([^"]+)"')


def literal_screenshot_names() -> list[tuple[str, str]]:
    names = []
    for path in sorted((ROOT / "tests" / "e2e").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        names += [(path.name, name) for name in SCREENSHOT_NAME.findall(text)]
        names += [(path.name, f"{who}-") for who in AUDIT_WHO.findall(text)]
    return names


def test_the_browser_tests_name_screenshots():
    """The search below finds them (a changed call would otherwise pass the next test unseen)."""
    files = {file for file, _ in literal_screenshot_names()}
    assert {"test_operator_console.py", "test_customer_accessibility.py", "test_console_accessibility.py"} <= files


def test_every_screenshot_name_says_whose_screen_it_is():
    unsaid = [f"{file}: {name!r}" for file, name in literal_screenshot_names() if said_who(name) is None]
    assert not unsaid, "screenshot names that do not say customer, operator or compliance:\n" + "\n".join(unsaid)


def test_the_console_audits_file_compliance_pages_under_compliance():
    """The reviewer's two-step pages and the recording player are not under
    /admin/: the audit names the person, not the URL."""
    text = (ROOT / "tests" / "e2e" / "test_console_accessibility.py").read_text(encoding="utf-8")
    compliance = text.split("def audit_compliance(", 1)[1].split("\ndef ", 1)[0]
    assert set(AUDIT_WHO.findall(compliance)) == {"compliance"}
    assert said_who("compliance-en-the-recording-player") == "Compliance"
    assert said_who("compliance-de-two-step-sign-in-on") == "Compliance"
