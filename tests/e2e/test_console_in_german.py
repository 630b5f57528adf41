"""The console in German, as an operator whose browser asks for German reads
it: sign-in, queue (with the plural the count needs), the call page's panel,
a capture, a decision and the end, with no English left where they look."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import customer_join, customer_open_link_and_accept, wait_decoding
from tests.e2e.harness import screenshot

# Words of the English console that must not show in the German one (whole
# words, so "Passwort" is not "Pass").
ENGLISH = re.compile(
    r"\b(Steps|Automated checks|Capture front|Ask for front|Pass|Fail|Skip|Decision|Record decision|Reason|Comment"
    r"|Keyboard shortcuts|Connection|Round trip|passed|pending|in progress|Document|Waiting customers|operator\(s\)"
    r"|Answer|Ring on|Your recent sessions|No captures yet|Decided)\b"
)


def english_in(page, selector: str) -> list[str]:
    return ENGLISH.findall(page.locator(selector).inner_text())


def test_operator_works_a_call_in_german(server, browser):
    seed = server.seed(business="console-german")
    operator = new_page(browser, locale="de-DE")

    operator.goto(f"{server.base_urls[0]}/console/login/")
    expect(operator.get_by_role("heading", level=1)).to_have_text("Anmeldung für das Ident-Team")
    operator.get_by_label("Benutzername").fill(seed["operator"]["username"])
    operator.get_by_label("Passwort").fill(seed["operator"]["password"])
    operator.get_by_role("button", name="Anmelden").click()

    expect(operator.locator("#queue-title")).to_contain_text("Wartende Kunden")
    operator.get_by_label("Status").select_option("available")
    # One operator available: the singular, from the German catalogue's plural forms.
    expect(operator.locator("#queue-status")).to_have_text("1 Person aus dem Ident-Team ist verfügbar.")

    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    row = operator.locator("#queue-body tr").first
    expect(row).to_contain_text("Max Mustermann")
    expect(row).to_contain_text("Einzelgespräch")
    expect(row.get_by_role("button", name="Annehmen")).to_be_visible()
    assert english_in(operator, "main") == []
    screenshot(operator, "console-queue-de")

    row.get_by_role("button", name="Annehmen").click()
    operator.wait_for_url("**/console/calls/**")
    wait_decoding(operator)
    card = operator.locator(".participant-card:visible")
    expect(card.locator(".step-button", has_text="Ausweisdokument")).to_contain_text("Ausstehend")
    expect(card.get_by_role("heading", name="Automatische Prüfungen")).to_be_visible()
    expect(operator.locator("#connection-badge")).to_have_text(re.compile(r"(Gute|Schlechte) Verbindung"))

    card.get_by_role("button", name="Vorderseite aufnehmen").click()
    expect(card.locator(".evidence-gallery figcaption").first).to_contain_text("Ausweisdokument, Vorderseite")
    card.get_by_role("button", name="Bestanden", exact=True).click()
    expect(card.locator(".step-button", has_text="Ausweisdokument")).to_contain_text("Bestanden")
    assert english_in(operator, ".workflow-panel") == []
    screenshot(operator, "console-call-de")

    # The system recommends a review (the test picture is no document):
    # approving against it asks for a confirmation, in German.
    card.get_by_label("Bestätigt", exact=True).check()
    expect(card.locator(".override-text")).to_have_text(
        "Das System empfiehlt „Prüfen“. Ich entscheide dagegen und begründe es im Kommentar."
    )
    card.get_by_label("Abgelehnt", exact=True).check()
    card.get_by_label("Grund").select_option("document_unreadable")
    card.get_by_role("button", name="Entscheidung speichern").click()
    expect(card.locator(".decision-result")).to_have_text("Entschieden: Abgelehnt · Ausweisdokument nicht lesbar")

    operator.locator("#btn-end").click()
    operator.locator("#btn-end-confirm").click()
    expect(operator.get_by_role("heading", name="Der Anruf ist beendet")).to_be_visible()
    expect(operator.locator("#recording-status")).to_have_text(
        re.compile("Aufzeichnung|aufgezeichnet"), timeout=60_000
    )
    expect(operator.get_by_role("link", name="Zurück zur Warteschlange")).to_be_visible()
    screenshot(operator, "console-ended-de")
    customer.context.close()
    operator.context.close()
