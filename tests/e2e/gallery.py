"""Writes docs/screenshots.md from the screenshots the browser tests kept
(`make screenshots`: VERITY_SCREENSHOTS=docs/screenshots, then this).

    python -m tests.e2e.gallery docs/screenshots

Each picture is named by the test that took it ("customer-de-the-waiting-view-phone");
the page groups them by who sees them, in the order a person meets them."""

import sys
from pathlib import Path

WHO = ("The customer", "The operator", "Compliance", "The supervisor")


def said_who(name: str) -> str | None:
    """Whose screen the name says it is, or None when it does not say.
    The name says it first ("operator-en-the-queue-with-a-waiting-customer");
    older names say it anywhere ("multi-user-customer", "recording-player")."""
    if name.startswith(("operator", "console")):
        return "The operator"
    if name.startswith("supervisor"):
        return "The supervisor"
    if name.startswith("compliance") or "recording-player" in name or "admin" in name:
        return "Compliance"
    if "customer" in name:
        return "The customer"
    if "operator" in name:
        return "The operator"
    return None


def _who(name: str) -> str:
    # A picture whose name does not say goes with the operator's (the browser
    # tests' names all say it: tests/unit/test_gallery_files_every_screenshot.py).
    return said_who(name) or "The operator"


def gallery(folder: Path) -> str:
    pictures = sorted(folder.glob("*.jpg"), key=lambda path: path.stat().st_mtime)
    lines = [
        "# Screenshots",
        "",
        "Every screen a customer, an operator, compliance and a supervisor see, in English and German, on a desktop and on a",
        "390 px phone where the screen is made for one. The browser tests take them on real calls (fake camera,",
        "real WebRTC); `make screenshots` takes them again and rewrites this page.",
    ]
    for title in WHO:
        shown = [path for path in pictures if _who(path.stem) == title]
        if not shown:
            continue
        lines += ["", f"## {title}", ""]
        for path in shown:
            caption = path.stem.replace("-", " ")
            lines += [f"**{caption}**", "", f"![{caption}](screenshots/{path.name})", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    (folder.parent / "screenshots.md").write_text(gallery(folder), encoding="utf-8")
    print(f"wrote {folder.parent / 'screenshots.md'} ({len(list(folder.glob('*.jpg')))} screenshots)")
