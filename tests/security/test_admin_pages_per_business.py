"""Every admin model's pages × every admin persona (tests/security/admin_world.py):
who gets each page, and that a business's admin or compliance officer never
sees another business's rows.

Reproduces issue #14's finding "the admin is not scoped per business": on the
code before per-business administration there was no business admin at all,
every staff user with a model permission saw every business's rows, and a
compliance officer could not be limited to one business.

For each model the table says what each role may do with the rows it sees
(``view``, ``add``, ``change``, ``delete``); the pages follow: the list and
the history need view, the add page add, the change page view (read-only) or
change, the delete page delete. A persona who may not gets 403; someone who is
not staff is sent to sign in. A scoped persona who asks for the other
business's row is told it does not exist (a redirect or 403/404, never its
page), and none of its pages (list, filters, dropdowns, search) names the
other business's rows. No page shows any webhook signing secret to anyone.
"""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.security.admin_world import (
    ADMIN_A,
    ADMIN_B,
    COMPLIANCE,
    COMPLIANCE_A,
    OPERATOR,
    OUTSIDER,
    OWN_BUSINESS,
    PERSONAS,
    SUPERUSER,
)

ALL = frozenset({"view", "add", "change", "delete"})
VIEW = frozenset({"view"})
NONE = frozenset()
# Role → what it may do on each model. The business admin role is the same
# for both businesses; compliance the same linked or not (the scope differs),
# unless a cell names the persona itself, which then wins over its role.
RIGHTS = {
    "accounts.Business": {SUPERUSER: ALL, "business_admin": VIEW | {"change"}},
    "accounts.BusinessStaff": {SUPERUSER: ALL, "business_admin": VIEW},
    "accounts.Operator": {SUPERUSER: ALL, "business_admin": VIEW | {"change"}},
    "accounts.TotpDevice": {SUPERUSER: VIEW | {"delete"}},
    "auth.User": {SUPERUSER: ALL},
    "auth.Group": {SUPERUSER: ALL},
    "operators.ApiKey": {SUPERUSER: VIEW | {"add", "change"}, "business_admin": VIEW | {"add", "change"}},
    "operators.WebhookEvent": {SUPERUSER: VIEW, "business_admin": VIEW},
    "operators.Decision": {SUPERUSER: ALL, "compliance": VIEW},
    "operators.SessionErasure": {SUPERUSER: ALL, "compliance": VIEW},
    # Raised by operators in the console, never added here; never deleted.
    # The one change is clearing (a note), by compliance, and never by the
    # person who raised the flag (operators.fraud_flags.fraud_flag_clear).
    "operators.FraudFlag": {SUPERUSER: VIEW | {"change"}, "compliance": VIEW | {"change"}},
    # The business's own negative list: its compliance officer and its admins
    # keep it; a platform-wide compliance reviewer reads every business's and
    # changes none (a cell keyed by persona: the one place linked and
    # unlinked compliance differ in more than scope).
    "operators.NegativeListEntry": {SUPERUSER: ALL, "business_admin": ALL, "compliance": VIEW, COMPLIANCE_A: ALL},
    "sessions_app.VerificationSession": {SUPERUSER: ALL, "business_admin": VIEW, "compliance": VIEW},
    "sessions_app.Participant": {SUPERUSER: ALL, "compliance": VIEW},
    "sessions_app.TermsAcceptance": {SUPERUSER: ALL, "compliance": VIEW},
    "sessions_app.Evidence": {SUPERUSER: ALL, "compliance": VIEW},
    "sessions_app.AuditEvent": {SUPERUSER: VIEW, "compliance": VIEW},
    "sessions_app.Recording": {SUPERUSER: ALL, "compliance": VIEW},
    "sessions_app.Booking": {SUPERUSER: VIEW, "business_admin": VIEW, "compliance": VIEW},
    "workflows.WorkflowTemplate": {SUPERUSER: ALL, "business_admin": VIEW | {"add", "change"}},
    # Retired with "active", never deleted by a business: the audit trail names the questions drawn.
    "workflows.BankQuestion": {SUPERUSER: ALL, "business_admin": VIEW | {"add", "change"}},
    # The business's own entries; the product's defaults (no business) are
    # read-only to them (tests/regulated/test_security_feature_admin.py).
    "workflows.SecurityFeature": {SUPERUSER: ALL, "business_admin": ALL},
    "workflows.StepState": {SUPERUSER: ALL, "compliance": VIEW},
    "workflows.CheckResult": {SUPERUSER: ALL, "compliance": VIEW},
}
# Sign-in attempts (django-axes): superusers only, checked with every persona
# in test_isolation_matrix.py and test_sign_in_guessing_is_locked_out.py; they
# belong to no business, so there is no per-business cell to draw here.
SUPERUSERS_ONLY_ELSEWHERE = {"axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog"}
ROLE = {SUPERUSER: SUPERUSER, ADMIN_A: "business_admin", ADMIN_B: "business_admin",
        COMPLIANCE: "compliance", COMPLIANCE_A: "compliance"}


def _admin_of(label):
    return next(((m, a) for m, a in admin.site._registry.items() if m._meta.label == label), (None, None))


def _url(model, page, pk=None):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
    return reverse(name, args=[pk] if pk is not None else [])


def test_every_admin_model_has_a_row():
    """A new admin model needs a decision here: who may do what with it."""
    labels = sorted(m._meta.label for m in admin.site._registry)
    assert [label for label in labels if label not in RIGHTS and label not in SUPERUSERS_ONLY_ELSEWHERE] == []


def _expected_status(rights: frozenset, page: str) -> int:
    needs = {"changelist": {"view", "change"}, "history": {"view", "change"}, "change": {"view", "change"},
             "add": {"add"}, "delete": {"delete"}}[page]
    return 200 if rights & needs else 403


def _assert_shows_nothing_of(world, persona, response, cell):
    body = response.content.decode(errors="replace")
    for secret in world.secrets.values():
        assert secret not in body, f"{cell}: a webhook signing secret is on the page"
    own = OWN_BUSINESS.get(persona)
    if own is None:
        return
    other = "b" if own == "a" else "a"
    leaked = [marker for marker in world.markers[other] if marker in body]
    assert leaked == [], f"{cell}: shows {leaked} of the other business"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("label", sorted(RIGHTS))
def test_admin_pages(label, persona, admin_world):
    world = admin_world
    model, _model_admin = _admin_of(label)
    browser = world.browser(persona)
    rights = RIGHTS[label].get(persona, RIGHTS[label].get(ROLE.get(persona), NONE))
    own = OWN_BUSINESS.get(persona, "a")
    other = "b" if own == "a" else "a"
    pages = [("changelist", None), ("add", None)] + [
        (page, world.rows[label][own]) for page in ("change", "delete", "history")
    ]
    for page, pk in pages:
        response = browser.get(_url(model, page, pk))
        cell = f"{page} of {label} as {persona}"
        if persona in (OPERATOR, OUTSIDER):
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), cell
            continue
        assert response.status_code == _expected_status(rights, page), f"{cell}: got {response.status_code}"
        _assert_shows_nothing_of(world, persona, response, cell)
    if persona in OWN_BUSINESS:
        for page in ("change", "delete", "history"):
            response = browser.get(_url(model, page, world.rows[label][other]))
            cell = f"{page} of the other business's {label} as {persona}"
            assert response.status_code in (302, 403, 404), f"{cell}: got {response.status_code}"
            _assert_shows_nothing_of(world, persona, response, cell)
            if response.status_code == 302:
                assert response["Location"] in (reverse("admin:index"), "/admin/") or "login" in response["Location"]


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p not in (SUPERUSER, ADMIN_B)])
@pytest.mark.parametrize("label", sorted(RIGHTS))
def test_admin_actions_leave_the_other_business_alone(label, persona, admin_world):
    """Every action of the model, run on business B's row by someone who may
    not change it (including delete_selected confirmed): the row is as it was."""
    world = admin_world
    model, model_admin = _admin_of(label)
    pk = world.rows[label]["b"]
    before = list(model._default_manager.filter(pk=pk).values())
    actions = ["delete_selected", *[a if isinstance(a, str) else a.__name__ for a in model_admin.actions or []]]
    browser = world.browser(persona)
    for action in actions:
        response = browser.post(_url(model, "changelist"), {"action": action, "_selected_action": [pk], "post": "yes"})
        cell = f"action {action} on B's {label} as {persona}"
        assert response.status_code in (200, 302, 403), f"{cell}: got {response.status_code}"
        _assert_shows_nothing_of(world, persona, response, cell)
    assert list(model._default_manager.filter(pk=pk).values()) == before
