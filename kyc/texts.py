"""Texts a business writes in several languages (a workflow's terms): one
shape, one validation and one choice of language for every such text.

The shape is an object of texts by language code, ``{"en": "…", "de": "…"}``.
A plain string is still accepted (workflows written before texts had
languages, and integrations that send one text): it is the text in the
workflow's default language.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def offered_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def texts_by_language(value, *, default_language: str) -> dict[str, str]:
    if isinstance(value, str):
        return {default_language: value} if value.strip() else {}
    return {code: text for code, text in (value or {}).items() if isinstance(text, str) and text.strip()}


def validate_texts(value, *, where: str, default_language: str | None) -> None:
    """Raise a ValidationError naming the field (``where``) and what is wrong.

    ``default_language`` None checks the shape only: a field validator sees
    the texts without the workflow that says which language is its default.
    """
    if isinstance(value, str):
        if not value.strip():
            raise ValidationError(_("%(where)s: the text is empty.") % {"where": where})
        return
    offered = offered_languages()
    if not isinstance(value, dict) or not value:
        raise ValidationError(
            _('%(where)s must be a text, or texts by language code such as {"en": "…", "de": "…"}.')
            % {"where": where}
        )
    unknown = sorted(code for code in value if code not in offered)
    if unknown:
        raise ValidationError(
            _("%(where)s: %(codes)s is not a language of this service; use %(offered)s.")
            % {"where": where, "codes": ", ".join(map(str, unknown)), "offered": ", ".join(offered)}
        )
    empty = sorted(code for code, text in value.items() if not isinstance(text, str) or not text.strip())
    if empty:
        raise ValidationError(
            _("%(where)s: the text in %(codes)s is empty.") % {"where": where, "codes": ", ".join(empty)}
        )
    if default_language is not None and default_language not in value:
        raise ValidationError(
            _("%(where)s needs a text in the workflow's default language (%(language)s).")
            % {"where": where, "language": default_language}
        )


@dataclass(frozen=True)
class ChosenText:
    text: str
    language: str  # the language the text is really written in
    fallback: bool  # the wanted language had no text: this is the default language's


def text_for_language(value, *, language: str | None, default_language: str) -> ChosenText:
    """The text in ``language`` (or its base language: de-at → de), else the
    default language's text, marked as a fallback."""
    texts = texts_by_language(value, default_language=default_language)
    wanted = (language or default_language).lower()
    for code in (wanted, wanted.split("-")[0]):
        if code in texts:
            return ChosenText(texts[code], code, False)
    if default_language in texts:
        return ChosenText(texts[default_language], default_language, wanted.split("-")[0] != default_language)
    # Only an unvalidated workflow gets here (seeded in code, a JSON edit
    # that skipped the form): any text it has beats an empty page.
    code, text = next(iter(texts.items()), (default_language, ""))
    return ChosenText(text, code, True)
