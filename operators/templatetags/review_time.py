"""The review page's one time convention as a template filter:
``{{ value|instant }}`` is the absolute time with its zone named."""

from django import template

from operators.compliance.review_display import format_instant

register = template.Library()


@register.filter
def instant(value) -> str:
    return format_instant(value) if value else ""
