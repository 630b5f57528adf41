"""``makemessages`` that leaves out what is not Verity's own text: the
virtualenv, npm's packages, runtime data, and the tests, benchmarks and fault
suite (their strings are not shown to anyone); and that finds the checks'
sentences, written as ``reason(code, "sentence", ...)`` (and the
recommendation's ``RecommendationReason.said``) by the Django-free
engines (workflows/checks/results.py). ``make messages`` and the catalogue's
test (tests/i18n/test_german_catalogue.py) both run this."""

from django.core.management.commands import makemessages

NOT_OURS = [".venv", "node_modules", "var", "staticfiles", "test-artifacts", "bench", "tests", "faults", "build"]


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=reason:2", "--keyword=said:4"]

    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *NOT_OURS]
        return super().handle(*args, **options)
