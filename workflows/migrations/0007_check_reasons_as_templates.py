"""Check reasons stored before reasons had templates become template and values.

Since 0bf5fa6 the engines store each reason as a code, an English sentence,
and the sentence's template with its values (workflows/checks/results.py
``reason``), and the readers say it again in the reader's language
(workflows/check_texts.py). Results stored before that hold only the code and
the English sentence, which a German reader then reads in English.

Each such sentence whose code and wording match a known sentence gets the
template and values it would be stored with today; its English sentence
stays as it was (a reader falls back to it). A sentence that matches nothing
is left alone, and shown as it is.

The known sentences are copied here, not imported: a migration must keep
meaning what it meant when it was written, whatever the engines say later.
They are of two kinds: the sentences the engines say today (most old
sentences were worded the same), matched with the values put in as
``results._english`` put them; and the older wordings, each with the
template it became.
"""

import re
from dataclasses import dataclass, field
from typing import Callable

from django.db import migrations

# results._ENGLISH_NAMES, reversed: the stored sentence named a check by these.
CHECK_BY_ENGLISH_NAME = {
    "The document MRZ check": "mrz",
    "The face match": "face_match",
    "The liveness check": "liveness",
    "The image quality check": "quality",
}
CHECK_CODES = ("mrz", "face_match", "liveness", "quality")
MRZ_FIELDS = (
    "document_code",
    "issuing_state",
    "surname",
    "given_names",
    "document_number",
    "nationality",
    "birth_date",
    "sex",
    "expiry_date",
    "optional_data",
    "optional_data_2",
    "composite",
)
# Values that were put in as whole numbers with %(name)s.
WHOLE_NUMBERS = frozenset({"count", "minimum", "age", "width", "height", "share", "growth"})

PLACEHOLDER = re.compile(r"%\((\w+)\)([.\d]*[sdf])|%%")
NUMBER = r"-?\d+(?:\.\d+)?"
INTEGER = r"-?\d+"


class NotThisOne(ValueError):
    """A value the sentence cannot have been made with: try the next known sentence."""


@dataclass(frozen=True)
class Known:
    """A sentence as it was stored (``shape``, with the template's
    placeholders where its values were) and the template it is said with
    now. ``values`` turns the values read from the sentence into the
    template's params; ``groups`` narrows what a value may look like where
    two placeholders meet without a word between them."""

    code: str
    shape: str
    template: str = ""
    values: Callable[[dict], dict] | None = None
    groups: dict = field(default_factory=dict)

    def pattern(self) -> re.Pattern:
        parts, position, names = [], 0, []
        for placeholder in PLACEHOLDER.finditer(self.shape):
            parts.append(re.escape(self.shape[position : placeholder.start()]))
            position = placeholder.end()
            name, conversion = placeholder.group(1), placeholder.group(2)
            if name is None:  # %%
                parts.append("%")
                continue
            if name in names:  # the same value twice: the same text twice
                parts.append(f"(?P={name})")
                continue
            names.append(name)
            if name in self.groups:
                group = self.groups[name]
            elif conversion.endswith(("f", "d")):
                group = NUMBER
            elif name in WHOLE_NUMBERS:
                group = INTEGER
            else:
                group = ".+?"
            parts.append(f"(?P<{name}>{group})")
        parts.append(re.escape(self.shape[position:]))
        return re.compile("".join(parts), re.DOTALL)


def _number(text: str):
    return int(text) if re.fullmatch(INTEGER, text) else float(text)


def _code(text: str) -> str:
    """An action or a field as results._english wrote it ("turn left") back to its code."""
    return text.strip().lower().replace(" ", "_")


def _field(text: str) -> str:
    code = _code(text)
    if code not in MRZ_FIELDS:
        raise NotThisOne(text)
    return code


def _check(text: str) -> str:
    if text in CHECK_BY_ENGLISH_NAME:
        return CHECK_BY_ENGLISH_NAME[text]
    if text in CHECK_CODES:
        return text
    raise NotThisOne(text)


def as_put_in_today(values: dict) -> dict:
    """The params of a sentence the engines still say in these words: the
    values as results._english put them into the sentence, made codes again."""
    params = {}
    for name, text in values.items():
        if name == "check":
            params[name] = _check(text)
        elif name == "action":
            params[name] = _code(text)
        elif name == "field":
            params[name] = _field(text)
        elif name == "fields":
            params[name] = [_field(part) for part in text.split(", ")]
        else:
            params[name] = text
    return params


def _liveness_frame(values: dict) -> dict:
    # "frame 2" or "turn_left 3", read as the engine reads its label today.
    action, _, number = values.pop("label").rpartition(" ")
    return {"number": number, "action": action or "liveness", **values}


def _turn(values: dict) -> dict:
    return {"action": f"turn_{values.pop('direction')}", **values}


def _codes(values: dict) -> dict:
    return {**values, "fields": [_field(part) for part in values["fields"].split(", ")]}


def _field_named(values: dict) -> dict:
    return {**values, "field": _field(values["field"])}


def _country_or_empty(values: dict) -> dict:
    country = values["country"]
    return {**_field_named(values), "country": "" if country == "(empty)" else country}


def _check_code(values: dict) -> dict:
    return {**values, "check": _check(values["check"])}


FIELD_NAMES = "issuing state|nationality"
TURN_DIRECTIONS = "left|right"

# What the engines say today (workflows/checks/, reason(...)), as of this migration.
TODAY = [
    Known("face.none_live", "No face was found in the live face capture."),
    Known("face.several_live", "%(count)s faces in the live face capture; the largest was used."),
    Known("face.none_document", "No portrait was found on the document capture."),
    Known("face.no_document", "There is no document capture to compare the face with."),
    Known("face.mismatch", "The live face does not match the document portrait (distance %(distance).2f, threshold %(threshold).2f)."),
    Known("face.borderline", "The live face is close to the threshold of the document portrait (distance %(distance).2f, threshold %(threshold).2f)."),
    Known("face.swap", "The person in frame %(number)s of “%(action)s” is not the person of the live face capture (distance %(distance).2f)."),
    Known("face.swap_borderline", "The person in frame %(number)s of “%(action)s” is close to the threshold (distance %(distance).2f)."),
    Known("liveness.unknown_action", "“%(action)s” is not a known challenge."),
    Known("liveness.too_few_frames", "%(count)s frames for “%(action)s”; at least %(minimum)s needed."),
    Known("liveness.still_replay", "All %(count)s frames of “%(action)s” are the same picture: a still image, not a live camera."),
    Known("liveness.still_replay", "Every frame of every action is the same picture."),
    Known("liveness.no_face", "No face in frame %(frames)s of “%(action)s”."),
    Known("liveness.several_faces", "More than one face in frame %(frames)s of “%(action)s”."),
    Known("liveness.no_turn", "The head turned the other way, not as asked (“%(action)s”): %(change).0f° of %(minimum).0f° needed."),
    Known("liveness.no_turn", "The head did not turn enough (“%(action)s”): %(change).0f° of %(minimum).0f° needed."),
    Known("liveness.no_nod", "The head did not tilt up enough: %(change).0f° of %(minimum).0f° needed."),
    Known("liveness.eyes_never_open", "The eyes were never clearly open."),
    Known("liveness.no_blink", "No blink was seen."),
    Known("liveness.not_closer", "The face did not come closer: %(growth)s %% larger, %(minimum)s %% needed."),
    Known("liveness.no_challenges", "No liveness frames were captured."),
    Known("mrz.not_found", "No machine-readable zone could be read in this capture."),
    Known("mrz.ambiguous", "These fields can be read more than one way that the check digits accept, and they cannot tell which is right: %(fields)s."),
    Known("mrz.check_digit", "Check digit does not match: %(fields)s."),
    Known("mrz.check_digit_unclear", "Check digit does not match (%(fields)s), but the reading is unsure."),
    Known("mrz.specimen", "%(field)s %(country)s is ICAO's specimen state: not a real document.", groups={"field": "(?i:" + FIELD_NAMES + ")"}),
    Known("mrz.unknown_country", "%(field)s “%(country)s” is not a known country code."),
    Known("mrz.birth_date_invalid", "The date of birth is not a valid date."),
    Known("mrz.expiry_date_invalid", "The expiry date is not a valid date."),
    Known("mrz.expired", "The document expired on %(date)s."),
    Known("mrz.under_age", "The holder is %(age)s, under the minimum age of %(minimum)s."),
    Known("mrz.name_mismatch", "The name on the document (%(read)s) is not the name the business sent (%(expected)s)."),
    Known("mrz.name_partial", "The name on the document (%(read)s) only partly matches the name the business sent (%(expected)s)."),
    Known("mrz.name_uncertain", "The name line was not read cleanly; compare the name by eye."),
    Known("mrz.birth_date_mismatch", "The date of birth on the document (%(read)s) is not the one the business sent (%(expected)s)."),
    Known("quality.low_resolution", "The capture is %(width)s×%(height)s pixels; at least %(minimum)s on the short side are needed."),
    Known("quality.blurred", "The capture is blurred (sharpness %(sharpness).0f, at least %(minimum).0f needed)."),
    Known("quality.too_dark", "The capture is too dark (mean brightness %(brightness).0f)."),
    Known("quality.overexposed", "The capture is too bright (mean brightness %(brightness).0f)."),
    Known("quality.glare", "A reflection covers %(share)s %% of the capture."),
    Known("engine.timeout", "%(check)s took too long and was stopped."),
    Known("engine.exception", "%(check)s could not run: %(error)s."),
    Known("evidence.unreadable", "The capture could not be read (%(error)s)."),
    Known("evidence.integrity", "The capture failed its integrity check (changed at rest)."),
]

# The older wordings (before 0bf5fa6; the MRZ's first "ambiguous" sentence
# from 7f42c6d) and the template each became.
BEFORE = [
    Known(
        "face.swap",
        "The person in liveness %(label)s is not the person of the live face capture (distance %(distance).2f).",
        "The person in frame %(number)s of “%(action)s” is not the person of the live face capture (distance %(distance).2f).",
        _liveness_frame,
    ),
    Known(
        "face.swap_borderline",
        "The person in liveness %(label)s is close to the threshold (distance %(distance).2f).",
        "The person in frame %(number)s of “%(action)s” is close to the threshold (distance %(distance).2f).",
        _liveness_frame,
    ),
    Known("liveness.unknown_action", "'%(action)s' is not a known challenge.", "“%(action)s” is not a known challenge.", dict),
    Known(
        "liveness.too_few_frames",
        "%(count)s frame(s) for %(action)s; at least %(minimum)s needed.",
        "%(count)s frames for “%(action)s”; at least %(minimum)s needed.",
        dict,
    ),
    Known(
        "liveness.still_replay",
        "All %(count)s frames of %(action)s are the same picture: a still image, not a live camera.",
        "All %(count)s frames of “%(action)s” are the same picture: a still image, not a live camera.",
        dict,
    ),
    Known("liveness.no_face", "No face in frame %(frames)s of %(action)s.", "No face in frame %(frames)s of “%(action)s”.", dict),
    Known(
        "liveness.several_faces",
        "More than one face in frame %(frames)s of %(action)s.",
        "More than one face in frame %(frames)s of “%(action)s”.",
        dict,
    ),
    Known(
        "liveness.no_turn",
        "The head did not turn %(direction)s enough: %(change).0f° of %(minimum).0f° needed (the head turned the other way).",
        "The head turned the other way, not as asked (“%(action)s”): %(change).0f° of %(minimum).0f° needed.",
        _turn,
        {"direction": TURN_DIRECTIONS},
    ),
    Known(
        "liveness.no_turn",
        "The head did not turn %(direction)s enough: %(change).0f° of %(minimum).0f° needed.",
        "The head did not turn enough (“%(action)s”): %(change).0f° of %(minimum).0f° needed.",
        _turn,
        {"direction": TURN_DIRECTIONS},
    ),
    Known(
        "liveness.not_closer",
        "The face did not come closer: %(growth)s%% larger, %(minimum)s%% needed.",
        "The face did not come closer: %(growth)s %% larger, %(minimum)s %% needed.",
        dict,
    ),
    Known(
        "mrz.ambiguous",
        "The %(fields)s can be read more than one way that the check digits accept; they cannot tell which is right.",
        "These fields can be read more than one way that the check digits accept, and they cannot tell which is right: %(fields)s.",
        _codes,
    ),
    Known(
        "mrz.ambiguous",
        "The reading of %(fields)s could be repaired more than one way; the check digits cannot tell which is right.",
        "These fields can be read more than one way that the check digits accept, and they cannot tell which is right: %(fields)s.",
        _codes,
    ),
    Known(
        "mrz.specimen",
        "The %(field)s %(country)s is ICAO's specimen state: not a real document.",
        "%(field)s %(country)s is ICAO's specimen state: not a real document.",
        _field_named,
        {"field": FIELD_NAMES},
    ),
    Known(
        "mrz.unknown_country",
        "The %(field)s code %(country)s is not a known code.",
        "%(field)s “%(country)s” is not a known country code.",
        _country_or_empty,
        {"field": FIELD_NAMES},
    ),
    Known(
        "quality.low_resolution",
        "The capture is %(width)sx%(height)s pixels; at least %(minimum)s on the short side are needed.",
        "The capture is %(width)s×%(height)s pixels; at least %(minimum)s on the short side are needed.",
        dict,
    ),
    Known("quality.glare", "A reflection covers %(share)s%% of the capture.", "A reflection covers %(share)s %% of the capture.", dict),
    Known("engine.timeout", "The %(check)s check took too long and was stopped.", "%(check)s took too long and was stopped.", _check_code),
    Known("engine.exception", "The %(check)s check could not run: %(error)s.", "%(check)s could not run: %(error)s.", _check_code),
]

# Today's words first: an older shape with a bare value ("of %(action)s.") also
# reads a sentence of today's, quotes and all, as its value.
_PATTERNS = [(known, known.pattern()) for known in TODAY + BEFORE]


def _typed(known: Known, params: dict) -> dict:
    """Numbers as the engines put them in: %(x).2f a float, a count an int."""
    conversions = {match.group(1): match.group(2) for match in PLACEHOLDER.finditer(known.template or known.shape) if match.group(1)}
    typed = {}
    for name, value in params.items():
        if isinstance(value, str) and conversions.get(name, "s").endswith("f"):
            value = float(value)
        elif isinstance(value, str) and (conversions.get(name, "s").endswith("d") or name in WHOLE_NUMBERS):
            value = _number(value)
        typed[name] = value
    return typed


def template_and_params(code: str, message: str) -> tuple[str, dict] | None:
    """The template and params of a stored English sentence, or None when no
    known sentence of its code reads like it."""
    # Stored sentences begin with a capital (results.reason capitalises the
    # first letter of what the template made).
    candidates = {message, message[:1].lower() + message[1:]}
    for known, pattern in _PATTERNS:
        if known.code != code:
            continue
        for text in candidates:
            found = pattern.fullmatch(text)
            if found is None:
                continue
            try:
                values = dict(found.groupdict())
                params = (known.values or as_put_in_today)(values)
                return (known.template or known.shape), _typed(known, params)
            except (NotThisOne, ValueError):
                continue
    return None


def reason_with_template(reason) -> dict | None:
    """The stored reason with its template and params, or None to leave it as it is."""
    if not isinstance(reason, dict) or reason.get("template") or not isinstance(reason.get("message"), str):
        return None
    said = template_and_params(reason.get("code") or "", reason["message"])
    if said is None:
        return None
    template, params = said
    return {**reason, "template": template, "params": params}


def _reasons_with_templates(reasons) -> tuple[list, bool]:
    changed, out = False, []
    for reason in reasons if isinstance(reasons, list) else []:
        converted = reason_with_template(reason)
        changed = changed or converted is not None
        out.append(converted if converted is not None else reason)
    return out, changed


def details_with_templates(details) -> dict | None:
    """A result's details with its reasons (and a liveness result's reasons
    per action) given templates, or None when nothing changes."""
    if not isinstance(details, dict):
        return None
    changed = False
    details = dict(details)
    if isinstance(details.get("reasons"), list):
        details["reasons"], changed = _reasons_with_templates(details["reasons"])
    if isinstance(details.get("actions"), list):
        actions = []
        for action in details["actions"]:
            if isinstance(action, dict) and isinstance(action.get("reasons"), list):
                reasons, action_changed = _reasons_with_templates(action["reasons"])
                if action_changed:
                    action, changed = {**action, "reasons": reasons}, True
            actions.append(action)
        details["actions"] = actions
    return details if changed else None


def reasons_as_templates(apps, schema_editor):
    CheckResult = apps.get_model("workflows", "CheckResult")
    changed = []
    for result in CheckResult.objects.only("pk", "details").order_by("pk").iterator(chunk_size=500):
        details = details_with_templates(result.details)
        if details is not None:
            result.details = details
            changed.append(result)
        if len(changed) >= 500:
            CheckResult.objects.bulk_update(changed, ["details"])
            changed = []
    if changed:
        CheckResult.objects.bulk_update(changed, ["details"])


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0006_verbose_names_translated"),
    ]

    # Backwards there is nothing to undo: the English sentence was never
    # touched, and a reader of the older code ignores the template.
    operations = [
        migrations.RunPython(reasons_as_templates, migrations.RunPython.noop, elidable=True),
    ]
