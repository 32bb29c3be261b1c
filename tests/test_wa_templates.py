"""WhatsApp templates: listed from Meta and Twilio (the fakes speak their list APIs), registered by owners,
offered by the send box outside the 24-hour window and sent as Meta `type: template` or Twilio
`ContentSid`; and what the page says after any send (sent, queued, failed and why)."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import ChannelAddress, Interaction
from tests.fakes.meta_graph import FakeMetaGraph
from tests.fakes.twilio_api import FakeTwilioAPI
from webhooks.models import WhatsAppAccount, WhatsAppTemplate
from webhooks.providers import meta_templates, twilio_content

TEMPLATES = "/dashboard/shop/templates/"
PHONE_NUMBER_ID, WABA = "100000000000001", "200000000000002"
META_TOKEN = "graph-token"
SID, TOKEN = "AC" + "4" * 32, "templates-twilio-token"
BODY = "Hello {{1}}, your order is ready. We are open {{2}}."


@pytest.fixture
def shop(shop):
    shop.language, shop.opening_hours = "en", "Tue–Sat 10–19"
    shop.save()
    return shop


@pytest.fixture
def customer(shop, make_customer):
    """Wrote on WhatsApp two days ago: the 24-hour window is closed."""
    julie = make_customer(
        shop, first_name="Julie", last_name="Martin", phone="+33698765432", preferred_channel="whatsapp"
    )
    Interaction.objects.create(
        customer=julie, channel="whatsapp", direction="inbound", body="Merci !",
        occurred_at=timezone.now() - timedelta(days=2),
    )  # fmt: skip
    return julie


@pytest.fixture
def graph(settings, shop):
    ChannelAddress.objects.create(shop=shop, provider="meta", address=PHONE_NUMBER_ID)
    with FakeMetaGraph(access_token=META_TOKEN) as fake:
        settings.WHATSAPP_ACCESS_TOKEN, settings.WHATSAPP_GRAPH_BASE = META_TOKEN, fake.url
        fake.add_template(WABA, "order_ready", "en", BODY)
        fake.add_phone_number(WABA, PHONE_NUMBER_ID)
        yield fake


@pytest.fixture
def twilio(settings, shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    with FakeTwilioAPI(account_sid=SID, auth_token=TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
        settings.TWILIO_API_BASE = settings.TWILIO_CONTENT_BASE = fake.url
        settings.PUBLIC_BASE_URL = ""
        yield fake


@pytest.fixture
def sent_at_once(monkeypatch):
    """Run what a send enqueues on commit right away, as outside a test's never-committed transaction:
    the page then reads the provider's answer, as it does with an eager or fast worker."""
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


def meta_template(shop, **fields):
    defaults = {"provider": "meta", "name": "order_ready", "language": "en", "body": BODY,
                "parameters": ["first_name", "shop_hours"]}  # fmt: skip
    return WhatsAppTemplate.objects.create(shop=shop, **{**defaults, **fields})


def flashes(client, response) -> str:
    html = client.get(response.url).content.decode()
    return " ".join(line.strip() for line in html.splitlines() if 'class="flash' in line) or html


# --- the providers' lists ---------------------------------------------------------------------------------


def test_meta_templates_are_listed_page_after_page(graph, monkeypatch):
    graph.add_template(WABA, "welcome", "fr", "Bienvenue !")
    graph.add_template(WABA, "order_ready", "fr", "Bonjour {{1}}, c'est prêt ({{2}}).")
    monkeypatch.setattr(meta_templates, "PAGE_SIZE", 2)
    listed = meta_templates.list_templates(
        waba_id=WABA, access_token=META_TOKEN, graph_base=graph.url, graph_version="v23.0"
    )
    assert [(t.name, t.language, t.parameter_count) for t in listed] == [
        ("order_ready", "en", 2), ("welcome", "fr", 0), ("order_ready", "fr", 2),
    ]  # fmt: skip
    gets = [r for r in graph.requests if r.method == "GET"]
    assert len(gets) == 2 and gets[0].query["fields"] == [meta_templates.TEMPLATE_FIELDS]
    assert gets[1].query["after"] and gets[0].headers["Authorization"] == f"Bearer {META_TOKEN}"


def test_twilio_contents_are_listed_following_next_page_url(twilio, monkeypatch):
    first = twilio.add_content("order_ready", "en", BODY, {"1": "Julie", "2": "10-19"})
    twilio.add_content("welcome", "fr", "Bienvenue !", approval=None)
    twilio.add_content("promo", "fr", "Promo !", approval="rejected")
    monkeypatch.setattr(twilio_content, "PAGE_SIZE", 2)
    listed = twilio_content.list_templates(account_sid=SID, auth_token=TOKEN, content_base=twilio.url)
    assert [(t.name, t.content_sid == first, t.parameter_count, t.body, t.status) for t in listed] == [
        ("order_ready", True, 2, BODY, "APPROVED"),
        ("welcome", False, 0, "Bienvenue !", "UNSUBMITTED"),
        ("promo", False, 0, "Promo !", "REJECTED"),
    ]


def test_a_next_page_on_another_host_is_not_followed(twilio, monkeypatch):
    twilio.add_content("a", "en", "A")
    twilio.add_content("b", "en", "B")
    monkeypatch.setattr(twilio_content, "PAGE_SIZE", 1)
    listed = twilio_content.list_templates(
        account_sid=SID, auth_token=TOKEN, content_base=twilio.url.replace("127.0.0.1", "localhost")
    )
    assert [t.name for t in listed] == ["a"]  # the fake's next_page_url names 127.0.0.1: not followed


# --- owners' page -----------------------------------------------------------------------------------------


def test_owner_stores_the_waba_id_and_fetches_meta_templates(client, owner, shop, graph):
    client.force_login(owner)
    no_id = client.post(reverse("whatsapp-templates-fetch"))
    assert "Enter the WhatsApp Business Account id first." in flashes(client, no_id)
    assert client.post(reverse("whatsapp-account"), {"waba_id": WABA}).status_code == 302
    assert WhatsAppAccount.objects.get().channel_address.address == PHONE_NUMBER_ID
    fetched = client.post(reverse("whatsapp-templates-fetch"))
    assert "Templates read from the provider: 1." in flashes(client, fetched)
    template = WhatsAppTemplate.objects.get(shop=shop)
    assert (template.provider, template.name, template.body, template.parameters) == (
        "meta",
        "order_ready",
        BODY,
        ["", ""],
    )
    # The owner says what fills each parameter; fetching again keeps it.
    edit = {"provider": "meta", "name": "order_ready", "language": "en", "body": BODY,
            "content_sid": "", "parameters_text": "first_name, shop_hours"}  # fmt: skip
    assert client.post(reverse("whatsapp-template-edit", args=[template.pk]), edit).status_code == 302
    client.post(reverse("whatsapp-templates-fetch"))
    template.refresh_from_db()
    assert template.parameters == ["first_name", "shop_hours"] and template.status == "APPROVED"


def test_a_wrong_waba_id_says_what_meta_answered(client, owner, graph):
    client.force_login(owner)
    page = flashes(client, client.post(reverse("whatsapp-account"), {"waba_id": "99999"}))
    assert "The provider refused" in page and META_TOKEN not in page
    assert not WhatsAppAccount.objects.exists()


def test_another_shop_s_account_is_refused(client, owner, graph):
    # The install's token reads every account: one that does not hold the shop's number is not its own.
    graph.add_template("300000000000003", "their_promo", "fr", "Promo chez nous !")
    graph.add_phone_number("300000000000003", "100000000000099")
    client.force_login(owner)
    page = flashes(client, client.post(reverse("whatsapp-account"), {"waba_id": "300000000000003"}))
    assert "does not hold the shop&#x27;s number" in page
    assert not WhatsAppAccount.objects.exists() and not WhatsAppTemplate.objects.exists()


def test_templates_this_app_cannot_fill_are_kept_but_never_offered(client, owner, shop, customer, graph):
    named = graph.add_template(WABA, "named", "en", "Hi {{customer_name}}")
    named["parameter_format"] = "NAMED"
    media = graph.add_template(WABA, "with_image", "en", "Your order is ready")
    media["components"].insert(0, {"type": "HEADER", "format": "IMAGE"})
    client.force_login(owner)
    client.post(reverse("whatsapp-account"), {"waba_id": WABA})
    client.post(reverse("whatsapp-templates-fetch"))
    statuses = dict(WhatsAppTemplate.objects.values_list("name", "status"))
    assert statuses == {"order_ready": "APPROVED", "named": "UNSUPPORTED", "with_image": "UNSUPPORTED"}
    html = client.get(reverse("dashboard:customer-detail", args=[customer.pk])).content.decode()
    assert "Send template order_ready" in html and "Send template named" not in html


def test_twilio_fetch_is_refused_when_the_account_serves_several_shops(
    client, owner, shop, twilio, other_shop
):
    twilio.add_content("order_ready", "en", BODY, {"1": "Julie", "2": "10-19"})
    ChannelAddress.objects.create(shop=other_shop, provider="twilio", address="+33757000999")
    client.force_login(owner)
    page = flashes(client, client.post(reverse("whatsapp-templates-fetch")))
    assert "serves several shops" in page and not WhatsAppTemplate.objects.exists()


def test_owner_fetches_twilio_contents(client, owner, shop, twilio):
    sid = twilio.add_content("order_ready", "en", BODY, {"1": "Julie", "2": "10-19"})
    twilio.add_content("draft", "en", "Not submitted", approval=None)
    client.force_login(owner)
    client.post(reverse("whatsapp-templates-fetch"))
    template = WhatsAppTemplate.objects.get(shop=shop, name="order_ready")
    assert (template.provider, template.content_sid, template.parameters) == ("twilio", sid, ["", ""])
    assert WhatsAppTemplate.objects.get(shop=shop, name="draft").status == "UNSUBMITTED"


def test_owner_adds_a_template_by_hand_and_twilio_needs_its_content_sid(client, owner, shop, twilio):
    client.force_login(owner)
    data = {"provider": "twilio", "name": "order_ready", "language": "en", "body": BODY, "content_sid": "",
            "parameters_text": "first_name, shop_hours"}  # fmt: skip
    refused = client.post(TEMPLATES, data)
    assert refused.status_code == 400 and "Content SID" in refused.content.decode()
    assert client.post(TEMPLATES, {**data, "content_sid": "HX" + "a" * 32}).status_code == 302
    typo = client.post(
        TEMPLATES, {**data, "name": "other", "content_sid": "HX" + "b" * 32, "parameters_text": "firstname"}
    )
    assert typo.status_code == 400 and "Unknown placeholder" in typo.content.decode()
    template = WhatsAppTemplate.objects.get(shop=shop)
    assert template.parameters == ["first_name", "shop_hours"]
    assert client.post(reverse("whatsapp-template-delete", args=[template.pk])).status_code == 302
    assert not WhatsAppTemplate.objects.exists()


def test_staff_cannot_manage_templates(client, staff, shop, graph):
    client.force_login(staff)
    assert client.get(TEMPLATES).status_code == 403
    assert client.post(reverse("whatsapp-templates-fetch")).status_code == 403
    assert client.post(reverse("whatsapp-account"), {"waba_id": WABA}).status_code == 403


# --- sending ----------------------------------------------------------------------------------------------


def test_outside_the_window_the_send_box_offers_templates_filled_in(client, staff, shop, customer, graph):
    meta_template(shop)
    client.force_login(staff)
    html = client.get(reverse("dashboard:customer-detail", args=[customer.pk])).content.decode()
    assert "WhatsApp templates (24-hour window closed)" in html
    assert 'name="value_1" value="Julie"' in html and 'name="value_2" value="Tue–Sat 10–19"' in html
    assert 'value="whatsapp" id="id_send_channel_1" disabled' in html


def test_a_meta_template_goes_out_as_type_template(client, staff, shop, customer, graph, sent_at_once):
    template = meta_template(shop)
    client.force_login(staff)
    response = client.post(
        reverse("customer-send-template", args=[customer.pk]),
        {"template": template.pk, "value_1": "Julie", "value_2": "Tue–Sat 10–19"},
    )
    sent = customer.interactions.get(direction="outbound")
    assert sent.body == "Hello Julie, your order is ready. We are open Tue–Sat 10–19."
    assert sent.status == "accepted" and sent.provider_message_id.startswith("wamid.")
    assert sent.raw_payload["template"]["name"] == "order_ready" and sent.author == staff
    posted = [r for r in graph.requests if r.method == "POST"][0].json()
    assert posted["to"] == "33698765432" and posted["type"] == "template"
    assert posted["template"] == {
        "name": "order_ready", "language": {"code": "en"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Julie"},
                                                       {"type": "text", "text": "Tue–Sat 10–19"}]}],
    }  # fmt: skip
    assert "Message sent." in flashes(client, response)
    assert "Hello Julie, your order is ready." in client.get(response.url).content.decode()  # the timeline


def test_a_twilio_template_goes_out_with_content_sid_and_variables(
    client, staff, shop, customer, twilio, sent_at_once
):
    sid = twilio.add_content("order_ready", "en", BODY)
    template = WhatsAppTemplate.objects.create(
        shop=shop, provider="twilio", name="order_ready", language="en", body=BODY, content_sid=sid,
        parameters=["first_name", "shop_hours"],
    )  # fmt: skip
    client.force_login(staff)
    client.post(
        reverse("customer-send-template", args=[customer.pk]),
        {"template": template.pk, "value_1": "Julie", "value_2": "10–19"},
    )
    form = twilio.requests[0].form()
    assert form["ContentSid"] == sid and "Body" not in form and form["To"] == "whatsapp:+33698765432"
    assert json.loads(form["ContentVariables"]) == {"1": "Julie", "2": "10–19"}
    sent = customer.interactions.get(direction="outbound")
    assert sent.status == "queued" and sent.provider_message_id.startswith("SM")


def test_a_template_in_the_sandbox_is_delivered_there(client, settings, staff, shop, customer, sent_at_once):
    settings.MESSAGING_SANDBOX, settings.WHATSAPP_ACCESS_TOKEN = True, ""
    ChannelAddress.objects.create(shop=shop, provider="meta", address=PHONE_NUMBER_ID)
    template = meta_template(shop)
    client.force_login(staff)
    response = client.post(
        reverse("customer-send-template", args=[customer.pk]),
        {"template": template.pk, "value_1": "Julie", "value_2": "10"},
    )
    sent = customer.interactions.get(direction="outbound")
    assert (
        sent.status == "delivered"
        and sent.provider_message_id.startswith("SB")
        and sent.raw_payload["sandbox"]
    )
    assert "Message sent to the sandbox" in flashes(client, response)


def test_a_template_needs_every_parameter(client, staff, shop, customer, graph):
    template = meta_template(shop)
    client.force_login(staff)
    response = client.post(
        reverse("customer-send-template", args=[customer.pk]),
        {"template": template.pk, "value_1": "Julie", "value_2": " "},
    )
    assert "Fill in every parameter of the template." in flashes(client, response)
    assert not customer.interactions.filter(direction="outbound").exists()


def test_a_template_meta_does_not_know_fails_with_its_reason(
    client, staff, shop, customer, graph, sent_at_once
):
    template = meta_template(shop, name="gone_template")
    client.force_login(staff)
    response = client.post(
        reverse("customer-send-template", args=[customer.pk]),
        {"template": template.pk, "value_1": "J", "value_2": "10"},
    )
    assert customer.interactions.get(direction="outbound").status == "failed"
    page = flashes(client, response)
    assert "Message not sent:" in page and "132001" in page and "Message sent." not in page


def test_another_shops_or_providers_template_is_a_404(client, staff, shop, other_shop, customer, graph):
    theirs = meta_template(other_shop)
    twilio_one = meta_template(shop, provider="twilio", content_sid="HX" + "c" * 32)
    client.force_login(staff)
    for template in (theirs, twilio_one):
        url = reverse("customer-send-template", args=[customer.pk])
        assert client.post(url, {"template": template.pk, "value_1": "J", "value_2": "1"}).status_code == 404


# --- what the page says after a send ----------------------------------------------------------------------


@pytest.fixture
def sms_shop(shop, twilio, customer):
    return shop


def test_a_failed_send_says_so_with_the_reason_not_sent(
    client, staff, sms_shop, customer, twilio, sent_at_once
):
    twilio.fail_next_with(400, 21211, "The 'To' number is not a valid phone number.")
    client.force_login(staff)
    response = client.post(reverse("customer-send", args=[customer.pk]), {"channel": "sms", "body": "Hello"})
    page = flashes(client, response)
    assert "Message not sent: Twilio 21211: the number is not a valid phone number." in page
    assert "Message sent." not in page


def test_a_send_the_provider_accepted_says_sent(client, staff, sms_shop, customer, twilio, sent_at_once):
    client.force_login(staff)
    response = client.post(reverse("customer-send", args=[customer.pk]), {"channel": "sms", "body": "Hello"})
    assert "Message sent." in flashes(client, response)


@pytest.mark.usefixtures("celery_not_eager")
def test_a_send_still_with_the_worker_says_queued(client, staff, sms_shop, customer, twilio, sent_at_once):
    client.force_login(staff)
    response = client.post(reverse("customer-send", args=[customer.pk]), {"channel": "sms", "body": "Hello"})
    assert "Message queued" in flashes(client, response)
    assert twilio.requests == []


def test_a_refused_send_reads_in_french(client, staff, sms_shop, customer, twilio, sent_at_once, settings):
    settings.TWILIO_ACCOUNT_SID = ""  # not configured, sandbox off: the send is refused in the worker
    settings.MESSAGING_SANDBOX = False
    sms_shop.language = "fr"
    sms_shop.save()
    client.force_login(staff)
    response = client.post(reverse("customer-send", args=[customer.pk]), {"channel": "sms", "body": "Hello"})
    expected = "Message non envoyé : Twilio n’est pas configuré (TWILIO_ACCOUNT_SID et TWILIO_AUTH_TOKEN)."
    assert expected in flashes(client, response)


def test_the_page_waits_a_moment_for_the_workers_answer(customer, monkeypatch):
    from webhooks import send_outcome as outcome

    sent = Interaction.objects.create(
        customer=customer, channel="sms", direction="outbound", body="Hi", status="queued"
    )
    monkeypatch.setattr(outcome, "_worker_commits_visible", lambda: True)

    def worker_answers(seconds):  # the worker's commit lands while the page polls
        Interaction.objects.filter(pk=sent.pk).update(status="queued", provider_message_id="SM" + "1" * 32)

    monkeypatch.setattr(outcome.time, "sleep", worker_answers)
    with translation.override("en"):
        assert outcome.send_outcome(sent).text == "Message sent."
    nothing = Interaction.objects.create(
        customer=customer, channel="sms", direction="outbound", body="Hi", status="queued"
    )
    monkeypatch.setattr(outcome.time, "sleep", lambda seconds: None)
    with translation.override("en"):
        assert outcome.send_outcome(nothing, wait=0.05).text.startswith("Message queued")


def test_only_approved_or_hand_entered_templates_are_offered(client, staff, shop, customer, graph):
    meta_template(shop, status="APPROVED")
    meta_template(shop, name="by_hand", status="")
    meta_template(shop, name="waiting", status="PENDING")
    meta_template(shop, name="refused", status="REJECTED")
    client.force_login(staff)
    html = client.get(reverse("dashboard:customer-detail", args=[customer.pk])).content.decode()
    assert "Send template order_ready" in html and "Send template by_hand" in html
    assert "Send template waiting" not in html and "Send template refused" not in html


def test_parameters_go_out_on_one_line(shop, customer):
    from webhooks.wa_templates import one_line

    assert one_line("Mar–Sam 10h–19h\n  Dim   14h–18h\n") == "Mar–Sam 10h–19h · Dim 14h–18h"
    assert one_line("\tJulie  ") == "Julie"
