"""Parsing the machine-readable zone of identity documents: text to fields.

Three layouts of ICAO Doc 9303: TD3 (passports, 2 lines of 44), TD2 (2 lines
of 36) and TD1 (ID cards, 3 lines of 30). The lines come from the OCR
(mrz_ocr) as strings, or as characters with the OCR's second readings.

OCR confuses letters and digits that look alike (O/0, I/1, B/8, S/5, ...).
They are repaired only where the document's own structure decides:

1. by field position: a field that can only hold letters (names, country
   codes) or only digits (dates, check digits) takes the OCR's best reading
   of that type, else the look-alike;
2. by check digits: in a field that may hold both (document number,
   optional data) or a digit the OCR hesitated over, a character is swapped
   only if the swap makes every check digit agree, no other swap of the same
   size does, and no rival repair one swap larger exists. Candidate swaps
   are only the OCR's own second readings at places it was unsure of: a
   confidently read character is never changed to make the digits agree
   (that is how a tampered document would pass). When the check digits
   cannot single out one repair, the reading is reported as ambiguous,
   never picked;
3. a reading whose check digits agree is still doubted where the OCR gave
   a measured misreading some probability at two places whose swap the
   check digits cannot see (two letters O read as zeros, weighed 7 and 3);
4. the name, which has no check digit, by the shape of its field: fillers
   read as C, E or K are put back where the field's structure says so.

The bottom of the three MRZ modules: it imports neither the OCR (mrz_ocr)
nor the judgement (mrz), so the zone's rules can be read and tested on
strings alone. Plain Python: no numpy, no Django.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from dataclasses import asdict, dataclass, field

from workflows.checks import countries

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


def clean_char(char: str) -> str:
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
            out.append(Char(clean_char(item.char), item.alternatives))
        else:
            for char in unicodedata.normalize("NFKC", item):
                if not char.isspace():
                    out.append(Char(clean_char(char)))
    return out


def text_of(chars: list[Char]) -> str:
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
        runs = _runs(text_of(line))
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
        unique.setdefault(text_of(variant), variant)
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


# Letters the OCR returns for the filler "<" on blurred or small print: its
# open angle reads as C, E or K. A name has no check digit, so a filler read
# as one of these is repaired by the shape of the name field alone.
FILLER_SHAPES = set("CEK")


def _name_repair(rows: list[list[Char]], layout: Layout, repairs: list[str]) -> bool:
    """Put back fillers read as C, E or K in the name field; True when the
    field's structure still leaves the name in doubt.

    The field is SURNAME<<GIVEN<NAMES<<<<: the rules, each from that shape,
    never from a guess about names:
    1. where the OCR itself gave the filler some probability;
    2. a run of three or more of one filler shape (no name holds CCC);
    3. after the given names, the field is fillers to its end: anything
       after the second "<<", and a lone filler shape between a filler and
       only fillers;
    4. no "<<" at all: the one doubled filler shape (CC, EE, KK, or one
       beside a "<") is the separator; several such places stay in doubt.
    """
    f = next(f for f in layout.fields if f.name == "name")
    row = rows[f.line]
    start, end = f.start, f.start + f.length
    read = text_of(row[start:end])
    chars = list(read)

    for k, c in enumerate(row[start:end]):
        if c.char in FILLER_SHAPES and dict(c.alternatives).get(FILLER, 0.0) >= ALTERNATIVE_FLOOR:
            chars[k] = FILLER
    text = "".join(chars)
    for m in re.finditer(r"([CEK])(?:\1|<)*\1(?:\1|<)*", text):
        if sum(ch == m.group(1) for ch in m.group(0)) >= 3:
            chars[m.start():m.end()] = FILLER * (m.end() - m.start())
    text = "".join(chars)
    separator = text.find("<<")
    if separator > 0:
        second = text.find("<<", separator + 2 + 1)
        if second > 0:
            chars[second:] = FILLER * (len(chars) - second)
    text = "".join(chars)
    m = re.search(r"<([CEK])<+$", text)
    if m:
        chars[m.start(1)] = FILLER
    uncertain = False
    text = "".join(chars)
    if "<<" not in text.rstrip(FILLER) and text.rstrip(FILLER):
        body = text.rstrip(FILLER)
        places = [m.start() for m in re.finditer(r"(?=(CC|EE|KK|[CEK]<|<[CEK]))", body)]
        places = [p for p in places if 0 < p < len(body) - 2]
        if len(places) == 1:
            chars[places[0]:places[0] + 2] = FILLER * 2
        elif places:
            uncertain = True
    repaired = "".join(chars)
    if repaired != read:
        for k, (before, after) in enumerate(zip(read, repaired)):
            if before != after:
                row[start + k] = Char(after, row[start + k].alternatives)
        repairs.append(f"name: {read.rstrip(FILLER)} → {repaired.rstrip(FILLER)} (fillers read as letters)")
    return uncertain


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


def _covering_checks(layout: Layout, line: int, position: int) -> int:
    """How many check digits cover this place (the digits themselves count
    as covered by the one they are)."""
    count = 0
    for check in layout.checks:
        if check.line == line and check.position == position:
            count += 1
        elif any(line == l and start <= position < end for l, start, end in check.covers):
            count += 1
    return count


# Where the OCR gave a measured misreading (a letter O read as the digit 0)
# at least this much probability, the character is doubted, but only where
# two check digits cover it: one check digit (the composite alone) agrees
# with one random change in ten, so a doubt this faint must not decide
# there. (Misread letters O reached it 79 % of the time, genuine zeros 11 %.)
FAINT_DOUBT_FLOOR = 0.001


def _candidates(rows: list[list[Char]], layout: Layout) -> list[tuple[int, int, str]]:
    """Swaps worth trying: only where the OCR itself hesitated, to one of
    the characters it weighed, of the place's alphabet.

    A character the OCR read confidently is never swapped, whatever the
    check digits say: a document whose digits agree only after changing
    such a character is tampered until a retake shows otherwise (a TD1 with
    an altered composite digit was once "repaired" by turning genuine
    zeros of its optional data into letters O).
    """
    candidates = set()
    for line, i, kind in _positions(layout, (ALNUM, NUMERIC)):
        char = rows[line][i]
        strongly_covered = _covering_checks(layout, line, i) >= 2
        for alternative, probability in char.alternatives:
            if alternative not in ALPHABET or alternative == char.char:
                continue
            if kind == NUMERIC and alternative not in _DIGITS | {FILLER}:
                continue
            faint_ok = strongly_covered and MEASURED_MISREADS.get(char.char) == alternative
            if probability >= ALTERNATIVE_FLOOR or (faint_ok and probability >= FAINT_DOUBT_FLOOR):
                candidates.add((line, i, alternative))
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
    rivals = _solutions([text_of(row) for row in rows], layout, doubtful, 2)
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
    lines = [text_of(row) for row in rows]
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


def lengths_fit(lengths: list[int], layout: Layout) -> bool:
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
    if layout is None or not lengths_fit([len(line) for line in cleaned], layout):
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
        name_doubt = _name_repair(rows, layout, repairs)
        valid = sum(_evaluate([text_of(row) for row in rows], layout).values())
        typed.append((valid, combo, rows, repairs, name_doubt))
    # Only the few fillings that already satisfy the most check digits are
    # worth a repair search.
    typed.sort(key=lambda item: -item[0])
    for _, combo, rows, repairs, name_doubt in typed[:4]:
        rows, checksum_notes, ambiguous = _checksum_repair(rows, layout)
        lines = [text_of(row) for row in rows]
        checks = _evaluate(lines, layout)
        score = (sum(checks.values()), not ambiguous, -len(repairs) - len(checksum_notes))
        if best is None or score > best[0]:
            best = (score, lines, repairs + checksum_notes, ambiguous, checks, combo, name_doubt)
    _, lines, repairs, ambiguous, checks, combo, name_doubt = best
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
    name_line = text_of(cleaned[layout.name_line])
    return MrzData(
        layout=layout.name,
        lines=lines,
        raw_lines=[line if isinstance(line, str) else text_of(line) for line in raw_lines],
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
        name_uncertain=len(name_line.rstrip(FILLER)) > layout.width or "?" in name_field or name_doubt,
    )
