"""The German catalogue is complete, and the committed .mo is what the .po says.

Nothing compiles the .po when the product is installed: a stale .mo would
ship English (or old German) without anyone noticing. And a text added to
the sources without its German would show English to a German reader, so
the last test runs makemessages (GNU gettext, installed by `make test`)."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
PO_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda escape: PO_ESCAPES[escape.group(1)], quoted.strip()[1:-1])


def read_po(path: Path) -> list[Entry]:
    """Just enough of the PO format for what makemessages writes. An entry
    ends at a blank line or where the next one's comments or msgid begin
    (makemessages puts no blank line after the header); strings may
    continue on "..." lines."""
    entries, entry, keyword = [], Entry(), None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        next_entry_begins = entry.msgstrs and (line.startswith("#") or line.startswith(("msgctxt ", "msgid ")))
        if not line.strip() or next_entry_begins:
            if keyword is not None:
                entries.append(entry)
            entry, keyword = Entry(), None
            if not line.strip():
                continue
        if line.startswith("#,"):
            entry.fuzzy = entry.fuzzy or "fuzzy" in (flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue  # references, translator comments, obsolete "#~" entries
        else:
            if not line.startswith('"'):
                keyword, _, line = line.partition(" ")
                if keyword.startswith("msgstr"):
                    entry.msgstrs.append("")
                elif keyword == "msgctxt":
                    entry.msgctxt = ""
            if keyword.startswith("msgstr"):
                entry.msgstrs[-1] += _unquote(line)
            else:
                setattr(entry, keyword, getattr(entry, keyword) + _unquote(line))
    return entries


def messages() -> list[Entry]:
    return [entry for entry in read_po(CATALOGUE / "django.po") if entry.msgid]


def test_catalogue_has_the_customer_pages_messages():
    msgids = {entry.msgid for entry in messages()}
    assert {"Before we start", "We could not find this link", "Please hold still."} <= msgids


def test_header_is_not_fuzzy_and_declares_german_in_utf8():
    header = next(entry for entry in read_po(CATALOGUE / "django.po") if entry.msgid == "")
    assert not header.fuzzy
    assert "Language: de\n" in header.msgstrs[0]
    assert "charset=UTF-8" in header.msgstrs[0]


def test_every_message_has_a_german_translation():
    untranslated = [entry.msgid for entry in messages() if not all(text.strip() for text in entry.msgstrs)]
    assert untranslated == []


def test_no_translation_is_fuzzy():
    """msgfmt leaves fuzzy entries out of the .mo, so customers would read them in English."""
    assert [entry.msgid for entry in messages() if entry.fuzzy] == []


def test_every_translation_keeps_exactly_the_placeholders_of_its_message():
    """A lost %(name)s drops the customer's data; an invented one raises KeyError when rendered."""
    broken = []
    for entry in messages():
        expected = set(PLACEHOLDER.findall(entry.msgid + entry.msgid_plural))
        broken += [(entry.msgid, text) for text in entry.msgstrs if set(PLACEHOLDER.findall(text)) != expected]
    assert broken == []


def test_committed_mo_says_what_the_po_says():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = []
    for entry in messages():
        if entry.msgid_plural:
            # German: msgstr[0] for n == 1, msgstr[1] otherwise.
            compiled_texts = [
                catalogue.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if entry.msgctxt is not None
                else catalogue.ngettext(entry.msgid, entry.msgid_plural, n)
                for n in (1, 2)
            ]
        elif entry.msgctxt is not None:
            compiled_texts = [catalogue.pgettext(entry.msgctxt, entry.msgid)]
        else:
            compiled_texts = [catalogue.gettext(entry.msgid)]
        if compiled_texts != entry.msgstrs:
            stale.append(entry.msgid)
    assert stale == [], "run `manage.py compilemessages --ignore=.venv` and commit django.mo"


def test_makemessages_finds_every_text_translated(tmp_path):
    """The catalogue is not stale: ``makemessages`` (Verity's, with what is
    not ours left out) run over a copy of the sources finds no text that the
    committed catalogue lacks or has only fuzzy. A new ``translate`` or
    ``gettext`` without its German fails here, not in front of a customer."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "verity"
    shutil.copytree(
        root,
        copy,
        ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "var", "staticfiles", "test-artifacts", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "kyc.settings"},
    )

    fresh = [entry for entry in read_po(copy / "locale" / "de" / "LC_MESSAGES" / "django.po") if entry.msgid]
    untranslated = [entry.msgid for entry in fresh if not all(text.strip() for text in entry.msgstrs)]
    fuzzy = [entry.msgid for entry in fresh if entry.fuzzy]
    assert (untranslated, fuzzy) == ([], []), "run `make messages`, translate what it adds, and commit the catalogue"
    committed = {(entry.msgctxt, entry.msgid) for entry in messages()}
    assert {(entry.msgctxt, entry.msgid) for entry in fresh} == committed, "texts no longer in the sources: run `make messages`"
