import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.csv_io import EXPORT_COLUMNS, neutralize
from customers.models import ChannelAddress, Customer, Interaction, Membership, Note, Order, Shop
from customers.services import tags_get_or_create

EXPECTED_HEADER_START = (
    "id,first_name,last_name,phone,email,whatsapp_user_id,segment,tags,preferred_channel,language,"
    "needs_attention,opted_out,created_at,first_contact_at,last_contact_at,orders_count,total_spent"
)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- create_shop ------------------------------------------------------------------------------------


def test_create_shop_with_numbers_and_new_owner(db):
    out, err = run(
        "create_shop", "--name", "Boutique Lila", "--country", "fr", "--twilio-number", "06 98 76 54 32",
        "--twilio-number", "+33 7 57 00 00 01", "--whatsapp-phone-number-id", "1234567890", "--owner", "lila",
        "--owner-email", "lila@example.com",
    )  # fmt: skip
    assert out.strip() == "boutique-lila"
    shop = Shop.objects.get(slug="boutique-lila")
    assert shop.country == "FR"
    assert set(shop.channel_addresses.values_list("provider", "address")) == {
        ("twilio", "+33698765432"),
        ("twilio", "+33757000001"),
        ("meta", "1234567890"),
    }
    password = err.split("password ")[1].split()[0]
    user = get_user_model().objects.get(username="lila")
    assert user.check_password(password) and user.is_staff and not user.is_superuser
    assert Membership.objects.get(user=user, shop=shop).role == "owner"


def test_create_shop_twice_gives_distinct_slugs(db):
    assert run("create_shop", "--name", "Lila", "--country", "FR")[0].strip() == "lila"
    assert run("create_shop", "--name", "Lila", "--country", "FR")[0].strip() == "lila-2"


def test_create_shop_refuses_a_number_another_shop_receives_on(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33698765432")
    with pytest.raises(CommandError, match="already receives"):
        run("create_shop", "--name", "Lila", "--country", "FR", "--twilio-number", "0698765432")
    assert not Shop.objects.filter(name="Lila").exists()


def test_create_shop_rejects_a_bad_number_clearly(db):
    with pytest.raises(CommandError, match="--twilio-number"):
        run("create_shop", "--name", "Lila", "--country", "FR", "--twilio-number", "SUPPORT")


# --- seed_demo --------------------------------------------------------------------------------------


def test_seed_demo_builds_a_realistic_shop_and_is_safe_to_run_twice(db):
    out, _ = run("seed_demo", "--customers", "60")
    shop = Shop.objects.get(slug="maison-coccinelle")
    counts = (
        Customer.objects.count(),
        Interaction.objects.count(),
        Order.objects.count(),
        Note.objects.count(),
    )
    assert counts[0] >= 60 and all(counts)
    assert set(Interaction.objects.values_list("channel", flat=True)) == {"sms", "whatsapp"}
    password = out.split("password ")[1].split()[0]
    assert get_user_model().objects.get(username="demo").check_password(password)

    out_again, _ = run("seed_demo", "--customers", "60")
    again = (
        Customer.objects.count(),
        Interaction.objects.count(),
        Order.objects.count(),
        Note.objects.count(),
    )
    assert again == counts
    new_password = out_again.split("password ")[1].split()[0]
    assert get_user_model().objects.get(username="demo").check_password(new_password)
    assert Shop.objects.filter(slug=shop.slug).count() == 1


def test_seed_demo_has_duplicates_to_merge(db):
    run("seed_demo", "--customers", "40")
    out, _ = run("find_duplicates", "--shop", "maison-coccinelle")
    assert "2 group(s) of duplicates found." in out
    before = Customer.objects.count()
    out, _ = run("find_duplicates", "--shop", "maison-coccinelle", "--merge")
    assert Customer.objects.count() == before - 2
    assert "0 group(s)" in run("find_duplicates", "--shop", "maison-coccinelle")[0]


# --- export -----------------------------------------------------------------------------------------


def test_export_header_tags_figures_and_formula_neutralising(shop, other_shop, make_customer, tmp_path):
    julie = make_customer(
        shop, first_name='=HYPERLINK("http://x")', last_name="@SUM(A1)", phone="+33698765432"
    )
    julie.tags.add(*tags_get_or_create(shop=shop, names=["vip", "mariage"]))
    Order.objects.create(shop=shop, customer=julie, reference="R1", amount=Decimal("100.50"))
    Order.objects.create(shop=shop, customer=julie, reference="R2", amount=Decimal("20.00"))
    make_customer(other_shop, first_name="Intruder")
    target = tmp_path / "out.csv"

    run("export_customers", "--shop", shop.slug, "--output", str(target))

    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith(EXPECTED_HEADER_START)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1  # nothing of the other shop
    row = rows[0]
    assert row["first_name"] == '\'=HYPERLINK("http://x")' and row["last_name"] == "'@SUM(A1)"
    assert row["phone"] == "'+33698765432"
    assert row["tags"] == "mariage;vip"
    assert (row["orders_count"], row["total_spent"]) == ("2", "120.50")


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(cell):
    assert neutralize(cell) == "'" + cell


def test_export_filters_by_segment(shop, make_customer):
    make_customer(shop, first_name="Vera", segment="vip")
    make_customer(shop, first_name="Paul", segment="prospect")
    out, _ = run("export_customers", "--shop", shop.slug, "--segment", "vip")
    assert [r["first_name"] for r in csv.DictReader(io.StringIO(out))] == ["Vera"]


def test_export_unknown_shop_says_which_exist(shop):
    with pytest.raises(CommandError, match="boutique-coccinelle"):
        run("export_customers", "--shop", "nope")


# --- import -----------------------------------------------------------------------------------------


def _write(tmp_path, text):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_reports_each_bad_line_by_number_and_keeps_the_good_ones(shop, tmp_path):
    path = _write(
        tmp_path,
        "email,phone,first_name,tags\n"  # any subset of columns, any order
        "julie@example.com,06 98 76 54 32,Julie,vip;mariage\n"  # line 2: ok
        "paul@example,,Paul,\n"  # line 3: bad e-mail
        ",SUPPORT,Sam,\n"  # line 4: bad phone
        ",,,\n"  # line 5: nothing to identify
        "lea@example.com,0033 7 81 22 33 44,Léa,\n",  # line 6: ok
    )
    with pytest.raises(CommandError, match="3 line"):
        out, err = run("import_customers", path, "--shop", shop.slug)
    assert Customer.objects.filter(shop=shop).count() == 2
    julie = Customer.objects.get(email="julie@example.com")
    assert julie.phone == "+33698765432" and julie.first_name == "Julie"
    assert sorted(julie.tags.values_list("name", flat=True)) == ["mariage", "vip"]


def test_import_rejected_lines_are_printed_with_numbers(shop, tmp_path):
    path = _write(tmp_path, "email,phone\nok@example.com,\nbad,\n,+33 6\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_customers", path, "--shop", shop.slug, stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("line 3: rejected: email")
    assert lines[1].startswith("line 4: rejected: phone")


def test_import_is_safe_to_rerun_and_merges_into_existing(shop, make_customer, tmp_path):
    existing = make_customer(shop, phone="+33698765432", first_name="", email=None)
    path = _write(tmp_path, "phone,first_name,last_name,email\n+33698765432,Julie,Martin,julie@example.com\n")
    out, _ = run("import_customers", path, "--shop", shop.slug)
    assert "0 created, 1 updated" in out
    out, _ = run("import_customers", path, "--shop", shop.slug)
    assert "0 created, 0 updated, 1 unchanged" in out
    existing.refresh_from_db()
    assert (existing.first_name, existing.last_name, existing.email) == (
        "Julie",
        "Martin",
        "julie@example.com",
    )
    assert existing.name_source == "human"


def test_export_then_import_into_another_shop_round_trips(shop, other_shop, make_customer, tmp_path):
    julie = make_customer(shop, first_name="Julie", last_name="-Martin", email="j@example.com", segment="vip")
    julie.tags.add(*tags_get_or_create(shop=shop, names=["mariage"]))
    exported = tmp_path / "export.csv"
    run("export_customers", "--shop", shop.slug, "--output", str(exported))

    out, _ = run("import_customers", str(exported), "--shop", other_shop.slug)

    assert "1 created" in out
    copy = Customer.objects.get(shop=other_shop)
    assert (copy.first_name, copy.last_name, copy.phone, copy.email) == (
        "Julie",
        "-Martin",
        julie.phone,
        "j@example.com",
    )
    assert copy.segment == "vip" and list(copy.tags.values_list("name", flat=True)) == ["mariage"]
    assert set(EXPORT_COLUMNS) >= {"phone", "email"}


def test_import_header_without_known_columns_is_rejected(shop, tmp_path):
    path = _write(tmp_path, "foo,bar\n1,2\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_customers", path, "--shop", shop.slug, stdout=io.StringIO(), stderr=err)
    assert "line 1: rejected: no known column" in err.getvalue()


def test_import_non_utf8_file_is_a_clear_error(shop, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("first_name,email\nHélène,h@example.com\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run("import_customers", str(path), "--shop", shop.slug)


def test_seed_demo_replies_say_what_they_did_so_its_analytics_have_figures(db):
    """The demo's automatic replies carry webhooks.autoreply's marker and its people's replies an author:
    the analytics page shows automation and response times for the demo, not zeros."""
    from analytics.figures import period_for, shop_figures
    from customers.management.commands import seed_demo
    from webhooks import autoreply

    assert (seed_demo.REPLY_KIND_KEY, seed_demo.ANSWER, seed_demo.HANDOVER) == (
        autoreply.REPLY_KIND_KEY,
        autoreply.ANSWER,
        autoreply.HANDOVER,
    )
    run("seed_demo", "--customers", "120")
    shop = Shop.objects.get(slug="maison-coccinelle")
    automatic = Interaction.objects.filter(customer__shop=shop, is_automatic=True)
    assert automatic.filter(raw_payload__has_key=autoreply.REPLY_KIND_KEY).count() == automatic.count() > 0
    people = Interaction.objects.filter(customer__shop=shop, direction="outbound", is_automatic=False)
    assert people.exists() and not people.filter(author__isnull=True).exists()

    year = shop_figures(shop, period_for("12m", timezone.localdate()), now=timezone.now())
    assert 0 < year.inbound_answered_auto < year.inbound
    assert year.first_answer_auto.count > 0 and year.first_answer_auto.median < 10  # seconds
    assert year.first_answer_human.count > 0 and year.first_answer_human.median >= 60
