"""A customer whose browser asks for German reads the workflow's German terms
text (not the English one), accepts it, and the acceptance says "de"."""

from playwright.sync_api import expect

from tests.e2e.conftest import new_page


def test_german_customer_reads_and_accepts_the_german_terms_text(server, browser):
    seed = server.seed(business="terms-german", multi_user=2)
    customer = new_page(browser, locale="de-DE")

    customer.goto(seed["one_on_one"]["links"][0])
    terms = customer.get_by_label("Text der Bedingungen")
    expect(terms).to_have_attribute("lang", "de")
    expect(terms).to_contain_text("Verity prüft Ihre Identität in einem Videoanruf")
    expect(terms).not_to_contain_text("Verity will verify your identity")
    expect(customer.locator(".terms-language-note")).to_have_count(0)

    customer.get_by_role("checkbox").check()
    customer.get_by_role("button", name="Akzeptieren und fortfahren").click()
    expect(customer.locator("#device-panel")).to_be_visible()

    stored = server.manage(
        "shell",
        "-c",
        "from sessions_app.models import TermsAcceptance; "
        f"a = TermsAcceptance.objects.get(participant__session__public_id='{seed['one_on_one']['session']}'); "
        "print(a.terms_version, a.terms_language)",
    )
    assert stored.strip().splitlines()[-1] == "2026-11 de"
