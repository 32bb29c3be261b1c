"""End to end, with real processes: an inbound SMS (through the signed webhook URL, in its own process)
becomes a contact with a note in HubSpot and a Contact with a Task in Salesforce, pushed by a real Celery
worker through Redis; and with Redis down when the message arrives, the push still happens once it is
back (Celery beat's sweep finds the outbox row)."""

import os

import pytest

from crm_backends.models import CrmConnection, CustomerSync
from customers.models import ChannelAddress, Customer
from customers.services import shop_create
from tests import processes
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce

pytestmark = [
    pytest.mark.postgres,  # the worker is another process: it needs a database server, not SQLite in memory
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not processes.redis_available() and os.environ.get("REQUIRE_POSTGRES") != "1",
        reason="needs redis-server",
    ),
]


def _shop(name, number, backend, options, secrets):
    shop = shop_create(name=name, country="FR")
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=number)
    connection = CrmConnection(shop=shop, backend=backend, options=options)
    connection.set_secrets(secrets)
    connection.save()
    return shop


def _sms(shop, sender, text, env):
    result = processes.manage(
        "simulate_inbound", "--shop", shop.slug, "--from", sender, "--text", text, env=env
    )
    assert result.returncode == 0, result.stderr
    return result


def test_inbound_sms_reaches_hubspot_and_salesforce_through_a_real_worker(tmp_path):
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    env = processes.app_env(redis_url, CRM_ALLOWED_HOSTS="127.0.0.1")  # the fakes' host, for the worker
    with FakeHubSpot(token="hs-token") as hubspot, FakeSalesforce() as salesforce:
        hs_shop = _shop(
            "Boutique HubSpot", "+33757000010", "hubspot", {"api_base": hubspot.url}, {"token": "hs-token"}
        )
        sf_shop = _shop(
            "Boutique Salesforce",
            "+33757000020",
            "salesforce",
            {"login_url": salesforce.url},
            {"client_id": "sf-client", "client_secret": "sf-secret", "refresh_token": "sf-refresh"},
        )
        with processes.celery_worker(env, beat=False, workdir=tmp_path) as worker:
            _sms(hs_shop, "06 11 22 33 44", "Bonjour, je m'appelle Julie Martin. Vous ouvrez dimanche ?", env)
            _sms(sf_shop, "06 55 66 77 88", "Bonjour, c'est Paul Durand, ma commande est prête ?", env)
            pushed = processes.wait_for(lambda: hubspot.notes and salesforce.tasks, timeout=90)
            assert pushed, "nothing pushed; worker said:\n" + worker.output()

        julie = Customer.objects.get(shop=hs_shop, phone="+33611223344")
        hs_id = CustomerSync.objects.get(customer=julie).external_id
        assert (
            hubspot.contacts[hs_id]["firstname"] == "Julie"
            and hubspot.contacts[hs_id]["lastname"] == "Martin"
        )
        assert any(n["associations"][0]["to"]["id"] == hs_id for n in hubspot.notes.values())

        paul = Customer.objects.get(shop=sf_shop, phone="+33655667788")
        sf_id = CustomerSync.objects.get(customer=paul).external_id
        assert salesforce.contacts[sf_id]["LastName"] == "Durand"
        assert any(t["WhoId"] == sf_id for t in salesforce.tasks.values())


def test_a_change_made_while_redis_is_down_is_pushed_once_it_is_back(tmp_path):
    port = processes.free_port()
    env = processes.app_env(
        f"redis://127.0.0.1:{port}/0", CRM_SYNC_SWEEP_SECONDS=1, CRM_ALLOWED_HOSTS="127.0.0.1"
    )
    with FakeHubSpot(token="hs-token") as hubspot:
        shop = _shop("Boutique", "+33757000030", "hubspot", {"api_base": hubspot.url}, {"token": "hs-token"})

        # Redis is down: the webhook still answers, the customer and the outbox row are committed.
        result = _sms(shop, "06 11 22 33 55", "Bonjour, je m'appelle Léa Roux", env)
        assert "Reply:" in result.stdout
        customer = Customer.objects.get(shop=shop, phone="+33611223355")
        assert CustomerSync.objects.get(customer=customer).status == "pending"
        assert not hubspot.contacts

        # Redis comes back with a worker and beat: the sweep finds the row and pushes it.
        with (
            processes.private_redis(port),
            processes.celery_worker(env, beat=True, workdir=tmp_path) as worker,
        ):
            pushed = processes.wait_for(lambda: hubspot.contacts and hubspot.notes, timeout=90)
            assert pushed, "nothing pushed after Redis came back; worker said:\n" + worker.output()
        sync = CustomerSync.objects.get(customer=customer)
        assert sync.status == "synced" and hubspot.contacts[sync.external_id]["firstname"] == "Léa"


def test_an_erase_and_a_merge_reach_hubspot_and_salesforce_through_a_real_worker(tmp_path):
    """Erased and merged in Coccinelle (committed here, as a page would), pushed by a real worker: beat's
    sweep finds the rows (this process runs tasks eagerly, so it enqueues nothing itself)."""
    from crm_backends.models import SyncItem
    from customers.models import Interaction
    from customers.privacy import customer_erase
    from customers.services import customer_merge

    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    env = processes.app_env(redis_url, CRM_SYNC_SWEEP_SECONDS=1, CRM_ALLOWED_HOSTS="127.0.0.1")
    with FakeHubSpot(token="hs-token") as hubspot, FakeSalesforce() as salesforce:
        shops = {
            "hubspot": _shop(
                "Boutique HubSpot",
                "+33757000040",
                "hubspot",
                {"api_base": hubspot.url},
                {"token": "hs-token"},
            ),
            "salesforce": _shop(
                "Boutique Salesforce",
                "+33757000050",
                "salesforce",
                {"login_url": salesforce.url},
                {"client_id": "sf-client", "client_secret": "sf-secret", "refresh_token": "sf-refresh"},
            ),
        }
        people = {}
        for backend, shop in shops.items():
            made = [
                Customer.objects.create(
                    shop=shop, phone=f"+3361122{n:04d}", first_name=name, last_name="Roux"
                )
                for n, name in enumerate(("Léa", "Léa", "Marc"), start=len(people) * 10)
            ]
            for customer in made:
                Interaction.objects.create(
                    customer=customer, channel="sms", direction="inbound", body="Bonjour"
                )
            people[backend] = made

        def contacts_of(backend):
            return {
                c.pk: s.external_id
                for c in people[backend]
                for s in CustomerSync.objects.filter(customer=c).exclude(external_id="")
            }

        with processes.celery_worker(env, beat=True, workdir=tmp_path) as worker:
            pushed = processes.wait_for(
                lambda: len(hubspot.notes) == 3 and len(salesforce.tasks) == 3, timeout=90
            )
            assert pushed, "nothing pushed; worker said:\n" + worker.output()
            ids = {backend: contacts_of(backend) for backend in shops}
            for backend in shops:
                keep, duplicate, erased = people[backend]
                customer_merge(keep=keep, others=[duplicate])
                customer_erase(customer=erased)
            done = processes.wait_for(
                lambda: (
                    hubspot.merges
                    and hubspot.gdpr_deleted
                    and salesforce.soap_merges
                    and salesforce.deleted
                    and not SyncItem.objects.exists()
                ),
                timeout=90,
            )
            assert done, "erase/merge not pushed; worker said:\n" + worker.output()

        hs_keep, hs_dup, hs_erased = (ids["hubspot"][c.pk] for c in people["hubspot"])
        assert hubspot.merges == [(hs_keep, hs_dup)] and hubspot.gdpr_deleted == [hs_erased]
        assert set(hubspot.contacts) == {hs_keep}
        assert {n["associations"][0]["to"]["id"] for n in hubspot.notes.values()} == {hs_keep}

        sf_keep, sf_dup, sf_erased = (ids["salesforce"][c.pk] for c in people["salesforce"])
        assert salesforce.soap_merges == [(sf_keep, sf_dup)] and sf_erased in salesforce.deleted
        assert set(salesforce.contacts) == {sf_keep}
        assert {t["WhoId"] for t in salesforce.tasks.values()} == {sf_keep} and len(salesforce.tasks) == 2
