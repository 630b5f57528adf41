"""Reading and checking the machine-readable zone of identity documents.

Three layouts of ICAO Doc 9303: TD3 (passports, 2 lines of 44), TD2 (2 lines
of 36) and TD1 (ID cards, 3 lines of 30). The text comes from RapidOCR's
PP-OCR models (they ship inside the ``rapidocr`` wheel; nothing is
downloaded), run without the angle classifier: it flipped MRZ lines upside
down on this kind of input.

OCR confuses letters and digits that look alike (O/0, I/1, B/8, S/5, ...).
They are repaired only where the document's own structure decides:

1. by field position: a field that can only hold letters (names, country
   codes) or only digits (dates, check digits) takes the OCR's best reading
   of that type, else the look-alike;
2. by check digits: in a field that may hold both (document number,
   optional data) or a digit the OCR hesitated over, a character is swapped
   only if the swap makes every check digit agree, no other swap of the same
   size does, and no rival repair one swap larger exists. Candidate swaps
   are the OCR's own second readings and the misreadings measured on this
   engine. When the check digits cannot single out one repair, the reading
   is reported as ambiguous, never picked;
3. a reading whose check digits agree is still doubted where the OCR gave
   a measured misreading some probability at two places whose swap the
   check digits cannot see (two letters O read as zeros, weighed 7 and 3).

Everything here is plain Python on numpy arrays: no Django.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import unicodedata
from dataclasses import asdict, dataclass, field

import numpy as np

from workflows.checks import countries
from workflows.checks.images import load_rgb
from workflows.checks.results import (
    FAILED,
    MRZ,
    NEEDS_REVIEW,
    PASSED,
    CheckOutcome,
    Reason,
    guarded,
)

ENGINE = "rapidocr"
# Bump the suffix whenever reading or judging changes: results are stored per
# engine version, so a new version re-checks old evidence instead of reusing.
ENGINE_REVISION = "mrz.1"

FILLER = "<"
ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")

# Characters OCR returns for the filler sign.
_FILLER_LOOKALIKES = "«‹〈<＜(［[{く"
# Reading a field that may only hold digits: the letter is the misread digit.
TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "J": "1", "T": "7",
            "Z": "2", "S": "5", "G": "6", "B": "8", "A": "4"}
# Reading a field that may only hold letters: the digit is the misread letter.
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "B"}
# Misreadings measured on generated documents (bench/checks_accuracy.py): in
# 17,412 characters of 210 documents RapidOCR read the letter O as the digit
# 0 264 times, Z as 2 ten times, I as 1 six times, never the other way round,
# and never B/8 or S/5 (those are repaired only where the OCR hesitated).
MEASURED_MISREADS = {"0": "O", "1": "I", "2": "Z"}

ALPHA = "alpha"  # letters and fillers
NUMERIC = "numeric"  # digits (check digits may also be a filler)
ALNUM = "alnum"
SEX = "sex"


@dataclass(frozen=True)
class Field:
    name: str
    line: int
    start: int
    length: int
    kind: str


@dataclass(frozen=True)
class CheckDigit:
    name: str
    line: int
    position: int
    # (line, start, end) slices the digit is computed over
    covers: tuple[tuple[int, int, int], ...]
    # ICAO lets an all-filler optional field carry a filler as its check digit.
    filler_allowed: bool = False


@dataclass(frozen=True)
class Layout:
    name: str
    lines: int
    width: int
    fields: tuple[Field, ...]
    checks: tuple[CheckDigit, ...]
    name_line: int


def _f(name, line, start, length, kind):
    return Field(name, line, start, length, kind)


TD3 = Layout(
    "TD3", 2, 44,
    (
        _f("document_code", 0, 0, 2, ALPHA), _f("issuing_state", 0, 2, 3, ALPHA), _f("name", 0, 5, 39, ALPHA),
        _f("document_number", 1, 0, 9, ALNUM), _f("document_number_check", 1, 9, 1, NUMERIC),
        _f("nationality", 1, 10, 3, ALPHA), _f("birth_date", 1, 13, 6, NUMERIC),
        _f("birth_date_check", 1, 19, 1, NUMERIC), _f("sex", 1, 20, 1, SEX), _f("expiry_date", 1, 21, 6, NUMERIC),
        _f("expiry_date_check", 1, 27, 1, NUMERIC), _f("optional_data", 1, 28, 14, ALNUM),
        _f("optional_data_check", 1, 42, 1, NUMERIC), _f("composite_check", 1, 43, 1, NUMERIC),
    ),
    (
        CheckDigit("document_number", 1, 9, ((1, 0, 9),)),
        CheckDigit("birth_date", 1, 19, ((1, 13, 19),)),
        CheckDigit("expiry_date", 1, 27, ((1, 21, 27),)),
        CheckDigit("optional_data", 1, 42, ((1, 28, 42),), filler_allowed=True),
        CheckDigit("composite", 1, 43, ((1, 0, 10), (1, 13, 20), (1, 21, 43))),
    ),
    name_line=0,
)

TD2 = Layout(
    "TD2", 2, 36,
    (
        _f("document_code", 0, 0, 2, ALPHA), _f("issuing_state", 0, 2, 3, ALPHA), _f("name", 0, 5, 31, ALPHA),
        _f("document_number", 1, 0, 9, ALNUM), _f("document_number_check", 1, 9, 1, NUMERIC),
        _f("nationality", 1, 10, 3, ALPHA), _f("birth_date", 1, 13, 6, NUMERIC),
        _f("birth_date_check", 1, 19, 1, NUMERIC), _f("sex", 1, 20, 1, SEX), _f("expiry_date", 1, 21, 6, NUMERIC),
        _f("expiry_date_check", 1, 27, 1, NUMERIC), _f("optional_data", 1, 28, 7, ALNUM),
        _f("composite_check", 1, 35, 1, NUMERIC),
    ),
    (
        CheckDigit("document_number", 1, 9, ((1, 0, 9),)),
        CheckDigit("birth_date", 1, 19, ((1, 13, 19),)),
        CheckDigit("expiry_date", 1, 27, ((1, 21, 27),)),
        CheckDigit("composite", 1, 35, ((1, 0, 10), (1, 13, 20), (1, 21, 35))),
    ),
    name_line=0,
)

TD1 = Layout(
    "TD1", 3, 30,
    (
        _f("document_code", 0, 0, 2, ALPHA), _f("issuing_state", 0, 2, 3, ALPHA),
        _f("document_number", 0, 5, 9, ALNUM), _f("document_number_check", 0, 14, 1, NUMERIC),
        _f("optional_data", 0, 15, 15, ALNUM),
        _f("birth_date", 1, 0, 6, NUMERIC), _f("birth_date_check", 1, 6, 1, NUMERIC), _f("sex", 1, 7, 1, SEX),
        _f("expiry_date", 1, 8, 6, NUMERIC), _f("expiry_date_check", 1, 14, 1, NUMERIC),
        _f("nationality", 1, 15, 3, ALPHA), _f("optional_data_2", 1, 18, 11, ALNUM),
        _f("composite_check", 1, 29, 1, NUMERIC),
        _f("name", 2, 0, 30, ALPHA),
    ),
    (
        # A document number longer than nine characters puts a filler here
        # and continues in the optional data; see _td1_document_number.
        CheckDigit("document_number", 0, 14, ((0, 5, 14),), filler_allowed=True),
        CheckDigit("birth_date", 1, 6, ((1, 0, 6),)),
        CheckDigit("expiry_date", 1, 14, ((1, 8, 14),)),
        CheckDigit("composite", 1, 29, ((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29))),
    ),
    name_line=2,
)

LAYOUTS = {layout.name: layout for layout in (TD3, TD2, TD1)}


def char_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == FILLER:
        return 0
    raise ValueError(f"{char!r} is not an MRZ character")


def check_digit(text: str) -> str:
    """ICAO 9303 part 3, 4.9: weights 7, 3, 1 repeating, sum modulo 10."""
    return str(sum(char_value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(text)) % 10)


# --- parsing lines of text ------------------------------------------------


@dataclass
class MrzData:
    """What a machine-readable zone says, after repair and validation."""

    layout: str
    lines: list[str]
    raw_lines: list[str]
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: dt.date | None
    sex: str
    expiry_date: dt.date | None
    optional_data: str
    check_digits: dict[str, bool]
    repairs: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    name_uncertain: bool = False

    @property
    def check_digits_valid(self) -> bool:
        return all(self.check_digits.values())

    @property
    def failed_check_digits(self) -> list[str]:
        return [name for name, ok in self.check_digits.items() if not ok]

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("birth_date", "expiry_date"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class Char:
    """One character as OCR read it, with the other MRZ characters it
    weighed at that place and their probabilities (empty when unknown)."""

    char: str
    alternatives: tuple[tuple[str, float], ...] = ()


def _clean_char(char: str) -> str:
    char = unicodedata.normalize("NFKC", char).upper()
    if char in _FILLER_LOOKALIKES:
        return FILLER
    if char in ALPHABET:
        return char
    return "?"


def clean_line(text) -> list[Char]:
    """MRZ characters of an OCR'd line: upper case, filler look-alikes as
    "<", spaces dropped, anything else as "?" (which no check accepts)."""
    out = []
    for item in text:
        if isinstance(item, Char):
            if not item.char.strip():
                continue
            out.append(Char(_clean_char(item.char), item.alternatives))
        else:
            for char in unicodedata.normalize("NFKC", item):
                if not char.isspace():
                    out.append(Char(_clean_char(char)))
    return out


def _text(chars: list[Char]) -> str:
    return "".join(c.char for c in chars)


def _runs(text: str, char: str = FILLER) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(re.escape(char) + "+", text)]


def _length_variants(line: list[Char], width: int, *, inner: bool) -> list[list[Char]]:
    """Ways to bring a line to its width by adding or removing fillers.

    OCR drops or doubles a "<" in a long run of them. At the end of a line
    that changes nothing; inside a data line it shifts every field after it,
    so there each place is tried and the check digits decide.
    """
    if len(line) == width:
        return [line]
    diff = width - len(line)
    filler = Char(FILLER)
    variants = []
    stripped = list(line)
    while stripped and stripped[-1].char == FILLER:
        stripped.pop()
    if len(stripped) <= width:
        variants.append(stripped + [filler] * (width - len(stripped)))
    elif diff > 0:
        variants.append(list(line) + [filler] * diff)
    if inner and abs(diff) <= 3:
        runs = _runs(_text(line))
        for combo in itertools.combinations_with_replacement(range(len(runs)), abs(diff)):
            chars = list(line)
            # apply from the right so earlier run offsets stay valid
            for run_index in sorted(set(combo), reverse=True):
                start, end = runs[run_index]
                times = combo.count(run_index)
                if diff > 0:
                    chars[end:end] = [filler] * times
                elif end - start >= times:
                    del chars[end - times : end]
            if len(chars) == width:
                variants.append(chars)
    if not variants:
        variants.append((list(line) + [filler] * width)[:width])
    unique = {}
    for variant in variants:
        unique.setdefault(_text(variant), variant)
    return list(unique.values())


_LETTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ<")
_DIGITS = set("0123456789")


def _type_repair(rows: list[list[Char]], layout: Layout, repairs: list[str]) -> None:
    """Read each letters-only or digits-only field as its type allows: the
    OCR's own best choice of that type, else the look-alike."""
    for f in layout.fields:
        if f.kind not in (ALPHA, NUMERIC):
            continue
        allowed = _LETTERS if f.kind == ALPHA else _DIGITS | ({FILLER} if f.name.endswith("_check") else set())
        mapping = TO_LETTER if f.kind == ALPHA else TO_DIGIT
        row = rows[f.line]
        for i in range(f.start, f.start + f.length):
            c = row[i]
            if c.char in allowed:
                continue
            choice = next((alt for alt, _ in c.alternatives if alt in allowed), None) or mapping.get(c.char)
            if choice is None:
                continue
            row[i] = Char(choice, c.alternatives)
            repairs.append(f"{f.name}: {c.char}→{choice} (only {'letters' if f.kind == ALPHA else 'digits'} here)")


def _evaluate(lines: list[str], layout: Layout) -> dict[str, bool]:
    results = {}
    for check in layout.checks:
        digit = lines[check.line][check.position]
        covered = "".join(lines[line][start:end] for line, start, end in check.covers)
        if check.name == "document_number" and layout is TD1:
            covered, digit = _td1_document_number(lines)
            if digit != lines[check.line][check.position]:
                # a long number: its check digit sits in the optional data
                results[check.name] = all(c in ALPHABET for c in covered + digit) and digit == check_digit(covered)
                continue
        if any(c not in ALPHABET for c in covered) or digit not in ALPHABET:
            results[check.name] = False
        elif digit == FILLER:
            results[check.name] = check.filler_allowed and set(covered) <= {FILLER}
        else:
            results[check.name] = digit == check_digit(covered)
    return results


def _td1_document_number(lines: list[str]) -> tuple[str, str]:
    """(document number, its check digit) of a TD1, long numbers included."""
    line = lines[0]
    if line[14] == FILLER and line[15] != FILLER:
        tail = line[15:30].split(FILLER, 1)[0]
        if len(tail) >= 2:
            return line[5:14] + tail[:-1], tail[-1]
    return line[5:14], line[14]


# OCR alternatives below this probability are noise, not a second reading.
ALTERNATIVE_FLOOR = 0.02


def _positions(layout: Layout, kinds: tuple[str, ...]) -> list[tuple[int, int, str]]:
    return [
        (f.line, i, f.kind) for f in layout.fields if f.kind in kinds for i in range(f.start, f.start + f.length)
    ]


def _solutions(lines: list[str], layout: Layout, candidates: list[tuple[int, int, str]], size: int):
    found = []
    for combo in itertools.combinations(candidates, size):
        if len({(line, i) for line, i, _ in combo}) < size:
            continue
        trial = [list(text) for text in lines]
        for line, i, alternative in combo:
            trial[line][i] = alternative
        if all(_evaluate(["".join(row) for row in trial], layout).values()):
            found.append(combo)
    return found


# Largest number of characters changed in one repair, and the largest set of
# candidate swaps searched in pairs and in triples (a blurred zone hesitates
# everywhere: searching all its triples would take a minute and prove nothing).
MAX_SWAPS = 3
MAX_CANDIDATES_FOR_SEARCH = 40
MAX_CANDIDATES_FOR_TRIPLES = 16


def _searchable(size: int, candidates: list) -> bool:
    if size == 1:
        return True
    if size == 2:
        return len(candidates) <= MAX_CANDIDATES_FOR_SEARCH
    return len(candidates) <= MAX_CANDIDATES_FOR_TRIPLES


def _candidates(rows: list[list[Char]], layout: Layout) -> list[tuple[int, int, str]]:
    """Swaps worth trying: where the OCR itself hesitated, in any field a
    check digit covers; and, in letter-or-digit fields, the misreadings
    measured on this engine (a letter O, I or Z read as 0, 1 or 2)."""
    candidates = set()
    for line, i, kind in _positions(layout, (ALNUM, NUMERIC)):
        char = rows[line][i]
        for alternative, probability in char.alternatives:
            if probability < ALTERNATIVE_FLOOR or alternative not in ALPHABET:
                continue
            if kind == NUMERIC and alternative not in _DIGITS | {FILLER}:
                continue
            candidates.add((line, i, alternative))
        if kind == ALNUM and char.char in MEASURED_MISREADS:
            candidates.add((line, i, MEASURED_MISREADS[char.char]))
    return sorted(candidates)


# A valid reading can still be wrong: two letters O read as zeros where the
# check digit weighs them 7 and 3 change its sum by 240, a multiple of 10.
# That happened on a generated passport. Where the OCR gave the letter at
# least this much probability at two such places, the reading is ambiguous.
# (Genuine zeros reached it 11 % of the time each, misread letters O 79 %.)
RIVAL_FLOOR = 0.001


def _rivals_of_valid(rows: list[list[Char]], layout: Layout) -> list[str]:
    doubtful = []
    for line, i, _ in _positions(layout, (ALNUM,)):
        char = rows[line][i]
        letter = MEASURED_MISREADS.get(char.char)
        if letter and dict(char.alternatives).get(letter, 0.0) >= RIVAL_FLOOR:
            doubtful.append((line, i, letter))
    if len(doubtful) < 2 or len(doubtful) > MAX_CANDIDATES_FOR_SEARCH:
        return []
    rivals = _solutions([_text(row) for row in rows], layout, doubtful, 2)
    return sorted({_field_at(layout, line, i) for combo in rivals for line, i, _ in combo})


def _checksum_repair(rows: list[list[Char]], layout: Layout) -> tuple[list[list[Char]], list[str], list[str]]:
    """Swap characters until every check digit agrees, accepting only an
    answer that is unique and leaves no rival one swap larger.

    A check digit is one digit modulo 10: about one random change in ten
    satisfies it. Taking the smallest repair alone accepted a wrong
    document number on generated passports (one coincidental swap instead
    of the two real misreads); requiring that no repair of the next size
    exists either gave no wrong reading in the benchmark, at the price of
    more readings sent to review. Several answers mean the check digits
    cannot tell: nothing is changed and the fields are reported ambiguous.
    """
    lines = [_text(row) for row in rows]
    if all(_evaluate(lines, layout).values()):
        return rows, [], _rivals_of_valid(rows, layout)
    candidates = _candidates(rows, layout)
    for size in range(1, MAX_SWAPS + 1):
        if not _searchable(size, candidates):
            break
        solutions = _solutions(lines, layout, candidates, size)
        if not solutions:
            continue
        rivals = []
        if len(solutions) == 1 and size < MAX_SWAPS and _searchable(size + 1, candidates):
            rivals = _solutions(lines, layout, candidates, size + 1)
        elif len(solutions) == 1 and size < MAX_SWAPS:
            # A rival could not be ruled out: do not trust the one answer.
            rivals = solutions
        if len(solutions) == 1 and not rivals:
            repaired = [list(row) for row in rows]
            notes = []
            for line, i, alternative in solutions[0]:
                notes.append(f"{_field_at(layout, line, i)}: {rows[line][i].char}→{alternative} "
                             "(the check digits agree only this way)")
                repaired[line][i] = Char(alternative, rows[line][i].alternatives)
            return repaired, notes, []
        combos = solutions + rivals
        return rows, [], sorted({_field_at(layout, line, i) for combo in combos for line, i, _ in combo})
    return rows, [], []


def _field_at(layout: Layout, line: int, position: int) -> str:
    for f in layout.fields:
        if f.line == line and f.start <= position < f.start + f.length:
            return f.name
    return "?"


def _date(text: str, *, kind: str, today: dt.date) -> dt.date | None:
    if not text.isdigit() or len(text) != 6:
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    if kind == "birth":
        # Nobody is born in the future: a year past this one is last century.
        year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    else:
        # Expiry dates are at most a few decades from issue.
        year = 2000 + yy if 2000 + yy <= today.year + 50 else 1900 + yy
    try:
        return dt.date(year, mm, dd)
    except ValueError:
        return None


def _field(lines: list[str], layout: Layout, name: str) -> str:
    f = next(f for f in layout.fields if f.name == name)
    return lines[f.line][f.start : f.start + f.length]


def _names(field_text: str) -> tuple[str, str]:
    surname, _, given = field_text.partition("<<")
    surname = " ".join(part for part in surname.split(FILLER) if part)
    given = " ".join(part for part in given.split(FILLER) if part)
    return surname, given


def guess_layout(lengths: list[int]) -> Layout | None:
    """By the number of lines and, for two, the data line's length (the
    name line may have lost trailing fillers)."""
    if len(lengths) == 3:
        return TD1
    if len(lengths) == 2:
        return TD3 if abs(lengths[1] - 44) < abs(lengths[1] - 36) else TD2
    return None


# OCR miscounts long runs of fillers by a few; the name line may lose any
# number of them at its end, which changes nothing.
LENGTH_TOLERANCE = 4


def _lengths_fit(lengths: list[int], layout: Layout) -> bool:
    for index, length in enumerate(lengths):
        if index == layout.name_line:
            if not 8 <= length <= layout.width + LENGTH_TOLERANCE:
                return False
        elif abs(length - layout.width) > LENGTH_TOLERANCE:
            return False
    return True


def parse_mrz(raw_lines: list, *, today: dt.date | None = None) -> MrzData | None:
    """Parse OCR'd MRZ lines (top to bottom; strings, or lists of Char with
    the OCR's alternatives), repairing what the structure allows. None when
    the lines do not form any known layout."""
    today = today or dt.date.today()
    cleaned = [clean_line(line) for line in raw_lines]
    layout = guess_layout([len(line) for line in cleaned])
    if layout is None or not _lengths_fit([len(line) for line in cleaned], layout):
        return None

    best = None
    per_line = [
        _length_variants(line, layout.width, inner=(index != layout.name_line))
        for index, line in enumerate(cleaned)
    ]
    typed = []
    for combo in itertools.islice(itertools.product(*per_line), 64):
        repairs: list[str] = []
        rows = [list(line) for line in combo]
        _type_repair(rows, layout, repairs)
        valid = sum(_evaluate([_text(row) for row in rows], layout).values())
        typed.append((valid, combo, rows, repairs))
    # Only the few fillings that already satisfy the most check digits are
    # worth a repair search.
    typed.sort(key=lambda item: -item[0])
    for _, combo, rows, repairs in typed[:4]:
        rows, checksum_notes, ambiguous = _checksum_repair(rows, layout)
        lines = [_text(row) for row in rows]
        checks = _evaluate(lines, layout)
        score = (sum(checks.values()), not ambiguous, -len(repairs) - len(checksum_notes))
        if best is None or score > best[0]:
            best = (score, lines, repairs + checksum_notes, ambiguous, checks, combo)
    _, lines, repairs, ambiguous, checks, combo = best
    for index, (before, after) in enumerate(zip(cleaned, combo)):
        if len(before) != len(after):
            repairs.insert(0, f"line {index + 1}: {len(before)} characters read, {layout.width} expected; "
                              "fillers adjusted")

    name_field = _field(lines, layout, "name")
    surname, given = _names(name_field)
    if layout is TD1:
        document_number, _ = _td1_document_number(lines)
        optional = _field(lines, layout, "optional_data") + _field(lines, layout, "optional_data_2")
    else:
        document_number = _field(lines, layout, "document_number")
        optional = _field(lines, layout, "optional_data")
    name_line = _text(cleaned[layout.name_line])
    return MrzData(
        layout=layout.name,
        lines=lines,
        raw_lines=[line if isinstance(line, str) else _text(line) for line in raw_lines],
        document_code=_field(lines, layout, "document_code").rstrip(FILLER),
        issuing_state=countries.normalise_code(_field(lines, layout, "issuing_state")),
        surname=surname,
        given_names=given,
        document_number=document_number.rstrip(FILLER),
        nationality=countries.normalise_code(_field(lines, layout, "nationality")),
        birth_date=_date(_field(lines, layout, "birth_date"), kind="birth", today=today),
        sex=_field(lines, layout, "sex"),
        expiry_date=_date(_field(lines, layout, "expiry_date"), kind="expiry", today=today),
        optional_data=optional.strip(FILLER).replace(FILLER, " "),
        check_digits=checks,
        repairs=repairs,
        ambiguous=ambiguous,
        # The name has no check digit: a line that was too long or held
        # unreadable characters may have lost part of it.
        name_uncertain=len(name_line.rstrip(FILLER)) > layout.width or "?" in name_field,
    )


# --- finding the zone in an image ----------------------------------------


@functools.lru_cache(maxsize=1)
def ocr_engine():
    """One RapidOCR per process: loading the ONNX models takes a while."""
    from rapidocr import RapidOCR

    return RapidOCR(params={"Global.use_cls": False, "Global.log_level": "warning"})


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    try:
        from importlib.metadata import version

        return f"{version('rapidocr')}+{version('onnxruntime')}+{ENGINE_REVISION}"
    except Exception:  # noqa: BLE001 - the version is informative, never fatal
        return f"unknown+{ENGINE_REVISION}"


@dataclass
class TextLine:
    text: str
    score: float
    box: np.ndarray  # 4x2 corners, clockwise from top-left
    chars: list[Char] | None = None

    @property
    def angle(self) -> float:
        (x0, y0), (x1, y1) = self.box[0], self.box[1]
        return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))

    @property
    def height(self) -> float:
        return float(np.linalg.norm(self.box[3] - self.box[0]))

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.box[1] - self.box[0]))

    @property
    def centre(self) -> np.ndarray:
        return self.box.mean(axis=0)


# A printed MRZ line, or a piece of one the detector cut off, is long and
# flat; the printed fields of the page mostly are not. Only these are read.
MIN_LINE_ASPECT = 6.0


def detect_text(rgb: np.ndarray) -> list[np.ndarray]:
    result = ocr_engine()(rgb, use_det=True, use_cls=False, use_rec=False)
    if result is None or getattr(result, "boxes", None) is None:
        return []
    return [np.asarray(box, dtype=float) for box in result.boxes]


def _crop(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    import cv2

    box = np.float32(box)
    width = int(round(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[3] - box[2]))))
    height = int(round(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))))
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(box, target)
    return cv2.warpPerspective(rgb, matrix, (max(width, 1), max(height, 1)), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def recognise(crops: list[np.ndarray]) -> list[tuple[str, float, list[Char] | None]]:
    """Text of line images, with each character's alternatives.

    Runs RapidOCR's recognition model directly to keep its per-character
    probabilities (its public result keeps only the line's mean). Those are
    internals of the pinned release: if they move, the public call is used
    and the repair falls back to the fixed look-alikes.
    """
    engine = ocr_engine()
    try:
        recogniser = engine.text_rec or engine._load_rec_model()
        characters = recogniser.postprocess_op.character
        out = []
        for crop in crops:
            h, w = crop.shape[:2]
            _, model_h, model_w = recogniser.rec_image_shape
            ratio = max(w / max(h, 1), model_w / model_h)
            batch = recogniser.resize_norm_img(crop, ratio)[np.newaxis].astype(np.float32)
            probabilities = recogniser.session(batch)[0]
            out.append(_decode(probabilities, characters))
        return out
    except (AttributeError, TypeError, IndexError, ValueError):
        result = engine(crops[0], use_det=False, use_cls=False, use_rec=True) if len(crops) == 1 else None
        if result is None:
            out = []
            for crop in crops:
                single = engine(crop, use_det=False, use_cls=False, use_rec=True)
                out.append((single.txts[0] if single.txts else "", float(single.scores[0]) if single.scores else 0.0,
                            None))
            return out
        return [(result.txts[0] if result.txts else "", float(result.scores[0]) if result.scores else 0.0, None)]


def _decode(probabilities: np.ndarray, characters: list[str]) -> tuple[str, float, list[Char]]:
    """Greedy CTC decoding that keeps, for each character, the probability
    mass of every MRZ character at its most confident step."""
    best = probabilities.argmax(axis=1)
    chars: list[Char] = []
    confidences = []
    t = 0
    steps = len(best)
    while t < steps:
        index = best[t]
        end = t
        while end + 1 < steps and best[end + 1] == index:
            end += 1
        if index != 0 and index < len(characters):
            peak = t + int(probabilities[t : end + 1, index].argmax())
            row = probabilities[peak]
            mass: dict[str, float] = {}
            for k in np.argsort(row)[::-1][:8]:
                if k == 0 or k >= len(characters):
                    continue
                char = _clean_char(characters[k]) if characters[k].strip() else " "
                mass[char] = mass.get(char, 0.0) + float(row[k])
            char = _clean_char(characters[index]) if characters[index].strip() else " "
            alternatives = tuple(
                (other, round(p, 4)) for other, p in sorted(mass.items(), key=lambda kv: -kv[1])
                if other != char and other not in (" ", "?")
            )
            chars.append(Char(characters[index] if char == "?" else char, alternatives))
            confidences.append(float(row[index]))
        t = end + 1
    text = "".join(c.char for c in chars)
    return text, float(np.mean(confidences)) if confidences else 0.0, chars


def ocr_lines(rgb: np.ndarray) -> list[TextLine]:
    """The long, flat text lines of an image, read."""
    boxes = []
    for box in detect_text(rgb):
        length = np.linalg.norm(box[1] - box[0])
        height = np.linalg.norm(box[3] - box[0])
        if height > 0 and length / height >= MIN_LINE_ASPECT:
            boxes.append(box)
    if not boxes:
        return []
    readings = recognise([_crop(rgb, box) for box in boxes])
    return [TextLine(text, score, box, chars) for (text, score, chars), box in zip(readings, boxes)]


def _looks_like_mrz(text: str) -> bool:
    cleaned = _text(clean_line(text))
    if len(cleaned) < 12:
        return False
    return sum(c in ALPHABET for c in cleaned) / len(cleaned) >= 0.85


def _merge_rows(lines: list[TextLine]) -> list[TextLine]:
    """Join pieces of one printed line that the detector cut apart, in the
    line's own direction (a tilted photo tilts the rows)."""
    if not lines:
        return []
    long_angles = [line.angle for line in lines if len(line.text) >= 10]
    angle = float(np.median(long_angles)) if long_angles else 0.0
    theta = np.radians(-angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    placed = sorted(((rotation @ line.centre, line) for line in lines), key=lambda item: item[0][1])
    rows: list[list[tuple[np.ndarray, TextLine]]] = []
    for centre, line in placed:
        if rows:
            row_y = np.mean([c[1] for c, _ in rows[-1]])
            row_h = np.mean([ln.height for _, ln in rows[-1]])
            if abs(centre[1] - row_y) < 0.5 * max(row_h, line.height):
                rows[-1].append((centre, line))
                continue
        rows.append([(centre, line)])
    merged = []
    for row in rows:
        row.sort(key=lambda item: item[0][0])
        pieces = [line for _, line in row]
        if len(pieces) == 1:
            merged.append(pieces[0])
            continue
        box = np.array([pieces[0].box[0], pieces[-1].box[1], pieces[-1].box[2], pieces[0].box[3]])
        chars = None
        if all(piece.chars is not None for piece in pieces):
            chars = [c for piece in pieces for c in piece.chars]
        merged.append(TextLine("".join(p.text for p in pieces), float(min(p.score for p in pieces)), box, chars))
    return merged


def find_mrz_lines(lines: list[TextLine]) -> list[TextLine] | None:
    """The bottom-most run of 2 or 3 consecutive MRZ-like rows of one layout."""
    rows = [row for row in _merge_rows(lines) if _looks_like_mrz(row.text)]
    best = None
    for start in range(len(rows)):
        for layout in (TD1, TD3, TD2):
            count = layout.lines
            group = rows[start : start + count]
            if len(group) < count:
                continue
            texts = [_text(clean_line(row.text)) for row in group]
            if guess_layout([len(text) for text in texts]) is not layout:
                continue
            if not _lengths_fit([len(text) for text in texts], layout):
                continue
            if not any(FILLER in text for text in texts):
                continue
            gaps = [np.linalg.norm(group[i + 1].centre - group[i].centre) for i in range(count - 1)]
            if any(gap > 3 * group[0].height for gap in gaps):
                continue
            best = group  # later (lower) groups win
            break
    return best


@dataclass
class MrzRead:
    data: MrzData | None
    lines: list[TextLine]
    all_text: list[str]
    rotation: float = 0.0

    @property
    def confidence(self) -> float:
        return min((line.score for line in self.lines), default=0.0)


def _rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    return cv2.warpAffine(rgb, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


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
        text_lines = ocr_lines(_rotate(rgb, angle) if angle else rgb)
        seen.extend(line.text for line in text_lines)
        group = find_mrz_lines(text_lines)
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


RETAKE_MRZ = (
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
            reasons=[Reason("mrz.not_found", "No machine-readable zone could be read in this capture.", RETAKE_MRZ)],
            details={"text_seen": read.all_text[:40]},
        )

    failed: list[Reason] = []
    review: list[Reason] = []
    confident = read.confidence >= CONFIDENT_READING

    if data.ambiguous:
        review.append(
            Reason(
                "mrz.ambiguous",
                "The " + ", ".join(name.replace("_", " ") for name in data.ambiguous) + " can be read more than "
                "one way that the check digits accept; they cannot tell which is right.",
                RETAKE_MRZ,
            )
        )
    if not data.check_digits_valid:
        wrong = ", ".join(name.replace("_", " ") for name in data.failed_check_digits)
        if confident and not data.ambiguous:
            failed.append(Reason("mrz.check_digit", f"Check digit does not match: {wrong}."))
        else:
            review.append(
                Reason("mrz.check_digit_unclear", f"Check digit does not match ({wrong}), but the reading is unsure.",
                       RETAKE_MRZ)
            )

    for label, code in (("issuing state", data.issuing_state), ("nationality", data.nationality)):
        if code in countries.SPECIMEN_CODES:
            review.append(Reason("mrz.specimen", f"The {label} {code} is ICAO's specimen state: not a real document."))
        elif code not in countries.VALID_CODES:
            review.append(Reason("mrz.unknown_country", f"The {label} code {code or '(empty)'} is not a known code."))

    if data.birth_date is None:
        (failed if data.check_digits.get("birth_date") and confident else review).append(
            Reason("mrz.birth_date_invalid", "The date of birth is not a valid date.", RETAKE_MRZ)
        )
    if data.expiry_date is None:
        (failed if data.check_digits.get("expiry_date") and confident else review).append(
            Reason("mrz.expiry_date_invalid", "The expiry date is not a valid date.", RETAKE_MRZ)
        )
    elif data.expiry_date < today:
        failed.append(Reason("mrz.expired", f"The document expired on {data.expiry_date.isoformat()}."))

    age = _age(data.birth_date, today) if data.birth_date else None
    if age is not None and minimum_age is not None and age < minimum_age:
        failed.append(Reason("mrz.under_age", f"The holder is {age}, under the minimum age of {minimum_age}."))

    name_result = None
    if expected_name:
        name_result = compare_names(data.surname, data.given_names, expected_name)
        if name_result == "mismatch":
            failed.append(
                Reason("mrz.name_mismatch",
                       f"The name on the document ({data.given_names} {data.surname}) is not the name the business "
                       f"sent ({expected_name}).")
            )
        elif name_result == "partial":
            review.append(
                Reason("mrz.name_partial",
                       f"The name on the document ({data.given_names} {data.surname}) only partly matches the name "
                       f"the business sent ({expected_name}).")
            )
    if data.name_uncertain:
        review.append(Reason("mrz.name_uncertain", "The name line was not read cleanly; compare the name by eye."))

    birth_match = None
    if expected_birth_date and data.birth_date:
        birth_match = expected_birth_date == data.birth_date
        if not birth_match:
            failed.append(
                Reason("mrz.birth_date_mismatch",
                       f"The date of birth on the document ({data.birth_date.isoformat()}) is not the one the "
                       f"business sent ({expected_birth_date.isoformat()}).")
            )

    if failed:
        status = FAILED
    elif review:
        status = NEEDS_REVIEW
    else:
        status = PASSED
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
