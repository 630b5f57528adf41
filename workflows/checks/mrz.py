"""Checking the machine-readable zone of identity documents.

``check_mrz`` reads a document capture (``read_mrz``) and judges what it
says (``judge_mrz``): check digits, validity today, the holder's age, the
name and date of birth the business sent. The work is split in three
modules whose imports go one way, so each can be read and tested alone:

- this one: the entry points the product calls, the engine's name and
  version its results are stored under, and the judgement;
- mrz_ocr: finding the zone in an image and reading its lines (RapidOCR);
- mrz_parse: ICAO 9303 layouts, check digits and repairs, on text alone.

Plain Python on numpy arrays: no Django.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

from workflows.checks import countries, mrz_ocr
from workflows.checks.images import load_rgb
from workflows.checks.mrz_parse import MrzData, parse_mrz
from workflows.checks.results import (
    MRZ,
    NEEDS_REVIEW,
    CheckOutcome,
    Reason,
    gettext_noop,
    guarded,
    reason,
    status_of,
)

ENGINE = "rapidocr"
# Bump the suffix whenever reading or judging changes: results are stored per
# engine version, so a new version re-checks old evidence instead of reusing.
ENGINE_REVISION = "mrz.3"


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    try:
        from importlib.metadata import version

        return f"{version('rapidocr')}+{version('onnxruntime')}+{ENGINE_REVISION}"
    except Exception:  # noqa: BLE001 - the version is informative, never fatal
        return f"unknown+{ENGINE_REVISION}"


# --- reading a capture ---------------------------------------------------


@dataclass
class MrzRead:
    data: MrzData | None
    lines: list[mrz_ocr.TextLine]
    all_text: list[str]
    rotation: float = 0.0

    @property
    def confidence(self) -> float:
        return min((line.score for line in self.lines), default=0.0)


def _better(read: MrzRead, best: MrzRead | None) -> bool:
    if best is None or best.data is None:
        return True
    if read.data is None:
        return False
    return sum(read.data.check_digits.values()) > sum(best.data.check_digits.values())


def read_mrz(image, *, today: dt.date | None = None) -> MrzRead:
    """Find and parse the machine-readable zone of a document image.

    Tries the image as it is, then turned upside down if no zone was found:
    a document held the wrong way round is still read. Tilted lines are cut
    out along their own angle, so a crooked photo needs no second pass.
    """
    rgb = load_rgb(image)
    seen: list[str] = []
    best: MrzRead | None = None
    for angle in (0.0, 180.0):
        text_lines, group = mrz_ocr.read_mrz_lines(mrz_ocr.rotate(rgb, angle) if angle else rgb)
        seen.extend(line.text for line in text_lines)
        if group is None:
            continue
        data = parse_mrz([row.chars if row.chars is not None else row.text for row in group], today=today)
        read = MrzRead(data, group, seen, rotation=angle)
        if data is not None and data.check_digits_valid:
            return read
        if _better(read, best):
            best = read
        break  # a zone was found the right way up: turning it over will not help
    return best or MrzRead(None, [], seen)


# --- judging what was read -----------------------------------------------


def normalise_name(text: str) -> list[str]:
    """Name tokens as an MRZ writes them: Latin capitals, no accents."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    replacements = {"ß": "SS", "Æ": "AE", "Ø": "OE", "Œ": "OE", "Þ": "TH", "Ł": "L", "Đ": "D"}
    text = "".join(replacements.get(c, c) for c in text.upper())
    return [token for token in re.split(r"[^A-Z]+", text) if token]


def _expected_alternatives(expected: str) -> list[list[str]]:
    """ICAO transliterates Ä as AE or A (Ö, Ü alike): try both spellings."""
    german = unicodedata.normalize("NFC", expected.upper())
    for umlaut, pair in (("Ä", "AE"), ("Ö", "OE"), ("Ü", "UE")):
        german = german.replace(umlaut, pair)
    return [normalise_name(expected), normalise_name(german)]


def compare_names(mrz_surname: str, mrz_given: str, expected: str) -> str:
    """'match', 'partial' or 'mismatch' between the MRZ name and the one the
    business sent, in any order ("First Last" or "Last, First").

    match: the same tokens both sides (the last MRZ token may be cut short:
    long names are truncated). partial: the surname and at least one given
    name agree, but one side has a name the other lacks (a middle name).
    """
    mrz_tokens = normalise_name(f"{mrz_surname} {mrz_given}")
    surname_tokens = normalise_name(mrz_surname)
    if not mrz_tokens:
        return "mismatch"

    def same(mrz_token: str, other: str, last: bool) -> bool:
        return mrz_token == other or (last and len(mrz_token) >= 2 and other.startswith(mrz_token))

    best = "mismatch"
    for expected_tokens in _expected_alternatives(expected):
        if not expected_tokens:
            continue
        remaining = list(expected_tokens)
        matched = []
        for index, token in enumerate(mrz_tokens):
            hit = next((o for o in remaining if same(token, o, index == len(mrz_tokens) - 1)), None)
            if hit is not None:
                remaining.remove(hit)
                matched.append(token)
        if len(matched) == len(mrz_tokens) and not remaining:
            return "match"
        surname_ok = all(token in matched for token in surname_tokens)
        given_ok = len(matched) > len(surname_tokens)
        if surname_ok and given_ok:
            best = "partial"
    return best


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


RETAKE_MRZ = gettext_noop(
    "Ask the customer to hold the page with the machine-readable lines flat and still, filling the frame, "
    "away from reflections."
)


@guarded(MRZ, ENGINE, engine_version())
def check_mrz(
    image,
    *,
    expected_name: str | None = None,
    expected_birth_date: dt.date | None = None,
    minimum_age: int | None = 18,
    today: dt.date | None = None,
) -> CheckOutcome:
    """Read the MRZ of a document capture and judge it.

    passed: every check digit agrees, the document is valid today, the holder
    is old enough and matches what the business sent.
    failed: the document itself says no (expired, under age, another name or
    birth date, a check digit that a clear reading contradicts).
    needs_review: nothing readable, a reading the check digits cannot settle,
    a code no state uses. The operator decides; a retake usually helps.
    """
    today = today or dt.date.today()
    read = read_mrz(image, today=today)
    return judge_mrz(
        read,
        expected_name=expected_name,
        expected_birth_date=expected_birth_date,
        minimum_age=minimum_age,
        today=today,
    )


# Below this the OCR itself doubts its reading; a wrong check digit is then
# more likely a misread than a forged document.
CONFIDENT_READING = 0.90


def judge_mrz(
    read: MrzRead,
    *,
    expected_name: str | None = None,
    expected_birth_date: dt.date | None = None,
    minimum_age: int | None = 18,
    today: dt.date,
) -> CheckOutcome:
    data = read.data
    if data is None:
        return CheckOutcome(
            kind=MRZ,
            status=NEEDS_REVIEW,
            score=0.0,
            reasons=[reason("mrz.not_found", "No machine-readable zone could be read in this capture.", RETAKE_MRZ)],
            details={"text_seen": read.all_text[:40]},
        )

    failed: list[Reason] = []
    review: list[Reason] = []
    confident = read.confidence >= CONFIDENT_READING

    if data.ambiguous:
        review.append(
            reason(
                "mrz.ambiguous",
                "These fields can be read more than one way that the check digits accept, and they cannot tell "
                "which is right: %(fields)s.",
                RETAKE_MRZ,
                fields=list(data.ambiguous),
            )
        )
    if not data.check_digits_valid:
        wrong = list(data.failed_check_digits)
        if confident and not data.ambiguous:
            failed.append(reason("mrz.check_digit", "Check digit does not match: %(fields)s.", fields=wrong))
        else:
            review.append(
                reason("mrz.check_digit_unclear", "Check digit does not match (%(fields)s), but the reading is unsure.",
                       RETAKE_MRZ, fields=wrong)
            )

    for name, code in (("issuing_state", data.issuing_state), ("nationality", data.nationality)):
        if code in countries.SPECIMEN_CODES:
            review.append(reason("mrz.specimen", "%(field)s %(country)s is ICAO's specimen state: not a real document.",
                                 field=name, country=code))
        elif code not in countries.VALID_CODES:
            review.append(reason("mrz.unknown_country", "%(field)s “%(country)s” is not a known country code.",
                                 field=name, country=code or ""))

    if data.birth_date is None:
        (failed if data.check_digits.get("birth_date") and confident else review).append(
            reason("mrz.birth_date_invalid", "The date of birth is not a valid date.", RETAKE_MRZ)
        )
    if data.expiry_date is None:
        (failed if data.check_digits.get("expiry_date") and confident else review).append(
            reason("mrz.expiry_date_invalid", "The expiry date is not a valid date.", RETAKE_MRZ)
        )
    elif data.expiry_date < today:
        failed.append(reason("mrz.expired", "The document expired on %(date)s.", date=data.expiry_date.isoformat()))

    age = _age(data.birth_date, today) if data.birth_date else None
    if age is not None and minimum_age is not None and age < minimum_age:
        failed.append(reason("mrz.under_age", "The holder is %(age)s, under the minimum age of %(minimum)s.",
                             age=age, minimum=minimum_age))

    name_result = None
    if expected_name:
        name_result = compare_names(data.surname, data.given_names, expected_name)
        if name_result == "mismatch":
            failed.append(
                reason("mrz.name_mismatch",
                       "The name on the document (%(read)s) is not the name the business sent (%(expected)s).",
                       read=f"{data.given_names} {data.surname}", expected=expected_name)
            )
        elif name_result == "partial":
            review.append(
                reason("mrz.name_partial",
                       "The name on the document (%(read)s) only partly matches the name the business sent "
                       "(%(expected)s).", read=f"{data.given_names} {data.surname}", expected=expected_name)
            )
    if data.name_uncertain:
        review.append(reason("mrz.name_uncertain", "The name line was not read cleanly; compare the name by eye."))

    birth_match = None
    if expected_birth_date and data.birth_date:
        birth_match = expected_birth_date == data.birth_date
        if not birth_match:
            failed.append(
                reason("mrz.birth_date_mismatch",
                       "The date of birth on the document (%(read)s) is not the one the business sent (%(expected)s).",
                       read=data.birth_date.isoformat(), expected=expected_birth_date.isoformat())
            )

    status = status_of(failed=failed, review=review)
    valid_share = sum(data.check_digits.values()) / max(len(data.check_digits), 1)
    return CheckOutcome(
        kind=MRZ,
        status=status,
        score=round(read.confidence * valid_share, 4),
        reasons=failed + review,
        details={
            "fields": data.to_dict(),
            "age": age,
            "name_match": name_result,
            "birth_date_match": birth_match,
            "ocr_confidence": round(read.confidence, 4),
            "rotation": read.rotation,
        },
    )

