"""Search that finds what a person means, on PostgreSQL and on SQLite alike (customers/search.py):
accents and case aside, full names in either order, e-mail only for e-mail-shaped queries, phone digits
only for mostly-digit queries, the best match first."""

import pytest

from customers.models import Customer
from customers.search import fold
from customers.selectors import customer_list, customer_search_filter


@pytest.fixture
def people(shop, make_customer):
    return {
        "celine": make_customer(shop, first_name="Céline", last_name="Lefèvre", phone="+33698765432"),
        "julie": make_customer(
            shop, first_name="Julie", last_name="Martin", phone="+33611157157", email="julie@example.com"
        ),
        "client": make_customer(shop, first_name="Paul", last_name="Durand", email="client157@example.com"),
        "oeuvre": make_customer(shop, first_name="Zoë", last_name="Cœur"),
        "martine": make_customer(shop, first_name="Martine", last_name="Julien"),
    }


def found(query: str) -> set[str]:
    matches = Customer.objects.filter(customer_search_filter(query, ["FR"]))
    return set(matches.values_list("first_name", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("celine", {"Céline"}),
        ("CÉLINE", {"Céline"}),
        ("lefevre", {"Céline"}),
        ("Lefèvre", {"Céline"}),
        ("coeur", {"Zoë"}),
        ("zoe", {"Zoë"}),
        # Words are found inside names: Martine Julien answers to both too (ranked after, see below).
        ("julie martin", {"Julie", "Martine"}),
        ("martin julie", {"Julie", "Martine"}),
        ("lefevre celine", {"Céline"}),
    ],
)
def test_names_are_found_whatever_the_accents_case_and_order(people, query, expected):
    assert found(query) == expected


def test_an_email_shaped_query_looks_at_emails_only(people):
    # The digits of client157@… are in Julie's phone too: an e-mail search must not find her.
    assert found("client157@example.com") == {"Paul"}
    assert found("JULIE@example") == {"Julie"}


def test_a_mostly_digit_query_is_a_phone_and_nothing_else(people):
    assert found("06 98 76 54 32") == {"Céline"}
    assert found("+33 6 11 15") == {"Julie"}
    assert found("157") == {"Julie"}  # digits only: a phone, never the 157 of an e-mail
    assert found("martin 157") == set()  # mostly letters: a name, and no one is called "157"


def test_a_whole_number_is_looked_up_as_itself_not_as_a_substring(people):
    """A whole number reads the unique phone index: its substring search read the trigrams every
    number of the country shares (65 ms at 1,000,000 customers, three times in the admin)."""
    sql = str(Customer.objects.filter(customer_search_filter("+33 6 98 76 54 32", ["FR"])).query)
    assert '"phone" IN (+33698765432)' in sql and '"phone"::text LIKE' not in sql
    assert found("+33 6 98 76 54 32") == found("06 98 76 54 32") == {"Céline"}
    assert found("98 76 54") == {"Céline"}  # part of a number: still found anywhere in it


def test_a_national_form_still_finds_a_foreign_customer(shop, make_customer):
    # 0470 12 34 56 reads as a French number (+33470123456) but is this Belgian customer's mobile.
    make_customer(shop, first_name="Anke", phone="+32470123456")
    assert found("0470 12 34 56") == {"Anke"}


def test_a_search_lists_the_exact_and_full_name_matches_first(shop, people):
    # "martin julie": Julie Martin (full name, reversed) before Martine Julien (names starting so).
    rows = list(customer_list(shop, {"q": "martin julie"}))
    assert [c.first_name for c in rows] == ["Julie", "Martine"]
    rows = list(customer_list(shop, {"q": "+33611157157"}))
    assert [c.first_name for c in rows] == ["Julie"]


def test_fold_matches_the_databases_unaccent(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT UNACCENT(LOWER(%s))", ["Éloïse Lefèvre-Cœur ß"])
        (in_database,) = cursor.fetchone()
    assert in_database == fold("Éloïse Lefèvre-Cœur ß") == "eloise lefevre-coeur ss"


def test_a_name_written_any_way_is_found_by_its_new_spelling(shop, make_customer):
    # The folded name is a column the database keeps (customers 0008): saves, queryset updates (the
    # inbound pipeline's) and bulk inserts (the worker's batches) all refresh it.
    saved = make_customer(shop, first_name="Anne", last_name="Dupont")
    Customer.objects.filter(pk=saved.pk).update(last_name="Lefèvre")
    Customer.objects.bulk_create([Customer(shop=shop, first_name="Hélène", last_name="Bühler")])
    renamed = make_customer(shop, first_name="Jean")
    renamed.first_name = "Jérôme"
    renamed.save()

    assert found("lefevre") == {"Anne"}
    assert found("helene buhler") == {"Hélène"}
    assert found("jerome") == {"Jérôme"} and found("jean") == set()


@pytest.mark.postgres
def test_a_name_search_can_read_the_trigram_index(shop, make_customer):
    # Structure, not time: the planner can answer a name search from the index (migration 0008); with
    # 100,000 customers in a shop it does, instead of folding every name (bench/pages.py).
    from django.db import connection

    make_customer(shop, first_name="Céline")
    query = Customer.objects.filter(customer_search_filter("celine", ["FR"])).values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customers_search_name_trgm" in plan, plan
