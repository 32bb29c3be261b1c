"""The free-text opening hours of existing shops become their weekly hours where the text can be read
with confidence; what cannot be read stays as the owner wrote it (shopinfo 0002)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from customers.models import Shop
from shopinfo.models import ShopProfile

BEFORE = [("shopinfo", "0001_initial")]
AFTER = [("shopinfo", "0002_hours_from_text")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_free_text_hours_become_the_week_and_the_rest_stays():
    before = _migrate(BEFORE)
    OldShop = before.get_model("customers", "Shop")
    read = OldShop.objects.create(
        name="A", slug="a", opening_hours="Mardi–samedi 10h–19h, dimanche 14h–18h, fermé le lundi"
    )
    english = OldShop.objects.create(
        name="B", slug="b", opening_hours="Mon-Fri 9am-6pm, Sat 10am-5pm, closed Sunday"
    )
    unread = OldShop.objects.create(name="C", slug="c", opening_hours="Sur rendez-vous, appelez-nous")
    empty = OldShop.objects.create(name="D", slug="d", opening_hours="")
    try:
        _migrate(AFTER)
        week = ShopProfile.objects.get(shop_id=read.pk).weekly_hours
        assert week == {
            "0": [],
            "1": [["10:00", "19:00"]],
            "2": [["10:00", "19:00"]],
            "3": [["10:00", "19:00"]],
            "4": [["10:00", "19:00"]],
            "5": [["10:00", "19:00"]],
            "6": [["14:00", "18:00"]],
        }
        assert Shop.objects.get(pk=read.pk).opening_hours == ""  # all of it was read
        assert ShopProfile.objects.get(shop_id=english.pk).weekly_hours["5"] == [["10:00", "17:00"]]
        # Nothing guessed: the text the parser cannot read stays whole, and no week is made up.
        assert Shop.objects.get(pk=unread.pk).opening_hours == "Sur rendez-vous, appelez-nous"
        assert not ShopProfile.objects.filter(shop_id__in=[unread.pk, empty.pk]).exists()
        # Back: the week is written out again as text, so that nothing the owner said is lost.
        _migrate(BEFORE)
        assert OldShop.objects.get(pk=read.pk).opening_hours.startswith("Tue 10:00-19:00; Wed 10:00-19:00")
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
