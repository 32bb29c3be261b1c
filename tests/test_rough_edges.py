"""Issue 13's rough edges, each pinned by what a French shop's owner sees on the pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.figures import figures_refresh
from customers.models import Interaction

LIST = "/dashboard/customers/"


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner)
    return client


def message(customer, direction, body, at):
    return Interaction.objects.create(
        customer=customer, channel="sms", direction=direction, body=body, status="received", occurred_at=at
    )


def written_then_answered(customer):
    """The customer wrote, then the shop answered: the answer is the newest message."""
    now = timezone.now()
    message(customer, "inbound", "Avez-vous la robe en 38 ?", now - timedelta(minutes=5))
    message(customer, "outbound", "Oui, nous vous la gardons.", now)
    figures_refresh([customer.pk])


# --- what the customer wrote, not the shop's reply ------------------------------------------------------


def test_the_list_and_the_overview_show_what_the_customer_wrote(as_owner, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    written_then_answered(customer)
    row = as_owner.get(LIST).content.decode()
    assert "Avez-vous la robe en 38" in row and "nous vous la gardons" not in row
    page = as_owner.get(f"{LIST}{customer.pk}/?tab=overview").content.decode()
    assert "Avez-vous la robe en 38" in page and "nous vous la gardons" not in page


def test_live_updates_carry_the_stat_cards(as_owner, shop, make_customer):
    make_customer(shop, first_name="Julie", needs_attention=True)
    data = as_owner.get(f"{LIST}updates/", {"after": 0}).json()
    assert data["stats"]["total"] == 1 and data["stats"]["needs_attention"] == 1
    page = as_owner.get(LIST).content.decode()
    assert 'data-stat="total"' in page and 'data-stat="needs_attention"' in page


def test_dashboard_root_leads_to_the_customer_list(as_owner):
    response = as_owner.get("/dashboard/")
    assert response.status_code == 302 and response.url == LIST


# --- values as a French shop reads them -------------------------------------------------------------


def test_display_helpers_speak_french(settings):
    from django.utils import translation

    from customers import display

    with translation.override("fr"):
        assert display.phone_display("+33611274959", "FR") == "06 11 27 49 59"
        assert display.phone_display("+447911123456", "FR") == "+447911123456"
        assert display.money_display("1916.1", "EUR") == "1\u00a0916,10\u00a0€"
        assert display.language_name("fr") == "Français"
        assert display.source_label("whatsapp") == "WhatsApp"
    with translation.override("en"):
        assert display.money_display("1916.1", "EUR") == "€1,916.10"


def test_the_pages_show_local_phones_euros_words_and_whole_addresses(as_owner, shop, make_customer):
    from customers.models import Order

    customer = make_customer(
        shop, first_name="Julie", phone="+33611274959", email="julie.martin@example.com",
        language="fr", source="whatsapp", city="Paris",
    )  # fmt: skip
    Order.objects.create(shop=shop, customer=customer, reference="A1", amount="1916.10")
    row = as_owner.get(LIST).content.decode()
    assert "06 11 27 49 59" in row and "+33611274959" not in row
    assert "1\u00a0916,10\u00a0€" in row
    assert "julie.martin<wbr>@example<wbr>.com" in row
    page = as_owner.get(f"{LIST}{customer.pk}/?tab=overview").content.decode()
    assert "06 11 27 49 59" in page and "1\u00a0916,10\u00a0€" in page
    assert "Langue : Français" in page or "Langue\u00a0: Français" in page
    overview = page.split('id="overview-title"')[1]
    assert "<dd>WhatsApp</dd>" in overview and "<dd>whatsapp</dd>" not in overview
    assert "<dd>Paris</dd>" in overview  # no blank line before the city, no stray code after it
    assert 'class="button danger-outline"' in page and 'class="button danger"' not in page


def test_an_outbound_message_without_author_has_one_separator(as_owner, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    message(customer, "outbound", "Bonjour", timezone.now())
    page = as_owner.get(f"{LIST}{customer.pk}/", {"tab": "activity"}).content.decode()
    meta = page.split('class="entry message outbound')[1].split("</p>")[0]
    assert "· ·" not in " ".join(meta.split())


# --- French everywhere a French shop looks ------------------------------------------------------------


def test_phone_errors_and_whatsapp_help_are_french(as_owner, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    page = as_owner.get(f"{LIST}{customer.pk}/edit/").content.decode()
    assert "WhatsApp business-scoped" not in page and "le plus souvent vide" in page
    data = {"first_name": "Julie", "phone": "12", "segment": "prospect"}
    page = as_owner.post(f"{LIST}{customer.pk}/edit/", data).content.decode()
    assert "numéro de téléphone valide, ni pour FR" in page


def test_escalation_email_is_in_the_shops_language_with_an_absolute_dashboard_link(
    settings, shop, owner, make_customer
):
    from django.core import mail

    from webhooks.tasks import notify_owners

    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    customer = make_customer(shop, first_name="Julie")
    inbound = message(customer, "inbound", "Je veux parler à quelqu'un", timezone.now())
    assert notify_owners(inbound.pk) == 1
    [email] = mail.outbox
    assert f"https://crm.example.com/dashboard/customers/{customer.pk}/" in email.body
    assert "/admin/" not in email.body
    assert "a besoin d'une personne" in email.body and "needs a person" not in email.body
    assert "a besoin d'une réponse" in email.subject


def test_escalation_link_is_absolute_without_public_base_url(settings, shop, owner, make_customer):
    from django.core import mail

    from webhooks.tasks import notify_owners

    settings.PUBLIC_BASE_URL, settings.ALLOWED_HOSTS = "", ["crm.boutique.fr"]
    customer = make_customer(shop, first_name="Julie")
    notify_owners(message(customer, "inbound", "Allô ?", timezone.now()).pk)
    assert f"https://crm.boutique.fr/dashboard/customers/{customer.pk}/" in mail.outbox[0].body


def test_the_admin_speaks_the_shops_language_with_french_filters_and_dates(
    client, owner, shop, make_customer
):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    make_customer(shop, first_name="Julie", phone="+33611274959")
    page = client.get("/admin/customers/customer/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert '<html lang="fr"' in page
    assert "needs attention" not in page and "Opted out" not in page and "Reachable" not in page
    assert "à traiter" in page and "Joignable" in page
    assert "06 11 27 49 59" in page
    assert "Dernier contact" in page and "Canal préféré" in page and "Last contact at" not in page
    assert "Inactif" in page and "Phone call" not in page  # the filters' choices too


def test_the_admin_change_page_names_fields_and_models_in_french(client, owner, shop, make_customer):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    julie = make_customer(shop, first_name="Julie", phone="+33611274959")
    change = f"/admin/customers/customer/{julie.pk}/change/"
    page = client.get(change, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for french in ("Prénom", "Téléphone", "Canal préféré", "Code postal", "Modification de client"):
        assert french in page, french
    for english in ("First name", "Postal code", "Preferred channel", "Change customer"):
        assert english not in page, english
    index = client.get("/admin/").content.decode()
    assert "Clients" in index and "Boutiques" in index


# --- merging two records that hold different phones ------------------------------------------------------


def test_merging_two_phones_asks_first_and_keeps_the_other_in_a_note(client, owner, shop, make_customer):
    from django.urls import reverse

    from customers.models import AuditEntry, Customer

    older = make_customer(
        shop, first_name="Lou", phone="+33611111111", created_at=timezone.now() - timedelta(1)
    )
    newer = make_customer(shop, first_name="Lou", phone="+33622222222", email="lou@x.fr")
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    url = reverse("admin:customers_customer_changelist")
    data = {"action": "merge_selected", "_selected_action": [older.pk, newer.pk]}

    page = client.post(url, {**data, "index": 0}).content.decode()
    assert "06 11 11 11 11" in page and "06 22 22 22 22" in page  # side by side
    assert 'name="conflicts_confirmed"' in page
    assert (
        "Ces 2 fiches n&#x27;en feront plus qu&#x27;une." in page
        or "Ces 2 fiches n'en feront plus qu'une." in page
    )
    refused = client.post(url, {**data, "confirm": "yes", "keep": older.pk})
    assert refused.status_code == 200 and Customer.objects.filter(shop=shop).count() == 2

    done = client.post(url, {**data, "confirm": "yes", "keep": older.pk, "conflicts_confirmed": "yes"})
    assert done.status_code == 302
    older.refresh_from_db()
    assert older.phone == "+33611111111" and older.email == "lou@x.fr"
    note = older.notes.get()
    assert "+33622222222" in note.body and note.author == owner
    audit = AuditEntry.objects.get(customer=older, action=AuditEntry.Action.MERGE)
    assert audit.details["not_kept"] == {"phone": "+33622222222"}


# --- CSV for Excel in French -----------------------------------------------------------------------------


def test_csv_export_for_french_excel_and_back(as_owner, shop, make_customer):
    import io

    from customers.csv_io import import_customers_csv
    from customers.models import Order

    customer = make_customer(shop, first_name="Julie", last_name="Martin")
    Order.objects.create(shop=shop, customer=customer, reference="A1", amount="1916.10")
    standard = as_owner.get(f"{LIST}export.csv").content.decode()
    assert standard.startswith("id,first_name,")
    excel = as_owner.get(f"{LIST}export.csv", {"csv": "excel"}).content.decode("utf-8")
    assert excel.startswith("\ufeffid;first_name;last_name;") and ";1916,10;" in excel
    assert "csv=excel" in as_owner.get(LIST).content.decode()
    # The import reads the Excel file back (a line matched by phone: updated, not created).
    report = import_customers_csv(shop=shop, stream=io.StringIO(excel))
    assert report.rejected == [] and shop.customers.count() == 1


def test_export_command_has_the_excel_option(shop, make_customer, tmp_path):
    from django.core.management import call_command

    make_customer(shop, first_name="Julie")
    out = tmp_path / "c.csv"
    call_command("export_customers", "--shop", shop.slug, "--excel", "--output", str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbfid;first_name;")


def test_the_admin_change_page_shows_money_and_dates_formatted(client, owner, shop, make_customer):
    from datetime import UTC, datetime

    from customers.models import Order

    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    since = datetime(2026, 7, 16, 8, 36, 47, 274248, tzinfo=UTC)
    customer = make_customer(shop, first_name="Julie", first_contact_at=since, created_at=since)
    Order.objects.create(shop=shop, customer=customer, reference="A1", amount="1916.10")
    page = client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert "1\u00a0916,10\u00a0€" in page and "1916.1000" not in page
    assert "16/07/2026 10:36" in page and "2026-07-16 08:36:47" not in page


# --- the demo ---------------------------------------------------------------------------------------------


def test_the_demo_reads_like_a_real_shop(db):
    from django.core.management import call_command

    from customers.models import Customer, Note, Order, Shop

    call_command("seed_demo", customers=60, password="demo-pw", stdout=__import__("io").StringIO())
    shop = Shop.objects.get(slug="maison-coccinelle")
    now = timezone.now()
    placed = list(Order.objects.filter(shop=shop).values_list("placed_at", flat=True))
    assert placed and all(at < now - timedelta(hours=12) for at in placed)  # none at seeding time
    assert len({(at.year, at.month) for at in placed}) >= 4  # spread over past months
    assert not Note.objects.filter(customer__shop=shop, author__isnull=True).exists()
    hours_replies = Interaction.objects.filter(
        customer__shop=shop, direction="outbound", body__contains="horaires"
    )
    assert hours_replies.exists() and all("dimanche" in r.body for r in hours_replies)
    for customer in Customer.objects.filter(shop=shop, first_contact_at__isnull=False)[:20]:
        latest = customer.interactions.filter(direction="inbound").order_by("-occurred_at").first()
        assert customer.last_contact_at == latest.occurred_at
        assert customer.last_message_preview == latest.body  # what the customer wrote, not the reply
    # The inbox shows people who asked for a person in the last two days, with the automatic holding
    # answer marked as such, and the other replies are partly automatic, partly a person's.
    from customers.inbox import inbox_waiting

    waiting = list(inbox_waiting(shop, user=None))
    assert waiting and all(now - c.waiting_since < timedelta(days=2) for c in waiting)
    assert all(c.interactions.filter(is_automatic=True, direction="outbound").exists() for c in waiting)
    replies = Interaction.objects.filter(customer__shop=shop, direction="outbound")
    assert replies.filter(is_automatic=True).exists() and replies.filter(is_automatic=False).exists()


def test_admin_orders_and_french_dates_on_the_list(client, owner, shop, make_customer):
    from datetime import UTC, datetime

    from customers.models import Order

    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    at = datetime(2026, 7, 16, 8, 36, tzinfo=UTC)
    customer = make_customer(shop, first_name="Julie", last_contact_at=at)
    Order.objects.create(shop=shop, customer=customer, reference="A1", amount="1916.10")
    orders = client.get("/admin/customers/order/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "1\u00a0916,10\u00a0€" in orders
    listed = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "16/07/2026 10:36" in listed and "07/16/2026" not in listed
