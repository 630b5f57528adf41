"""How a document number and a name are written before they are compared
across sessions and with the business's negative list: one spelling for what
an MRZ reads and what a person types in the admin."""

import re
import unicodedata

import numpy as np

from workflows.checks.mrz import normalise_name

FACE_DESCRIPTOR_LENGTH = 128


def document_number_key(value: str) -> str:
    """Capitals and digits only: the MRZ's "<" fillers, spaces and dashes a
    person types go ("c01x-00t47" and "C01X00T47<" are one number)."""
    value = unicodedata.normalize("NFKC", value or "").upper()
    return re.sub(r"[^A-Z0-9]", "", value)


# ICAO Doc 9303 part 3's transliterations that are two letters: an MRZ writes
# Müller as MUELLER, so a name a person types is written the same way before
# the other accents are folded (é → E).
_ICAO_TWO_LETTERS = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS", "Å": "AA", "Æ": "AE", "Ø": "OE", "Þ": "TH"})


def name_key(*parts: str) -> str:
    """Casefolded, accents folded, fillers gone, tokens sorted: "Müller,
    Anna" typed by a person, and MRZ surname MUELLER given ANNA, are one
    name. Sorted because an MRZ writes the surname first and people do not."""
    tokens = []
    for part in parts:
        upper = unicodedata.normalize("NFC", part or "").upper()
        tokens.extend(normalise_name(upper.translate(_ICAO_TWO_LETTERS)))
    return " ".join(sorted(token.casefold() for token in tokens))


def descriptor_to_bytes(descriptor) -> bytes:
    vector = np.asarray(descriptor, dtype="<f4")
    if vector.shape != (FACE_DESCRIPTOR_LENGTH,) or not np.all(np.isfinite(vector)):
        raise ValueError("A face descriptor is 128 finite numbers.")
    return vector.tobytes()


def descriptor_from_bytes(data) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")
