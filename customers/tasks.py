from celery import shared_task

from customers.models import Shop
from customers.segments import segments_refresh


@shared_task
def refresh_all_segments() -> int:
    """Nightly: customers drift to inactive with time alone, so segments are recomputed for every shop."""
    return sum(segments_refresh(shop=shop) for shop in Shop.objects.all())
