from celery import shared_task

from analytics import weekly
from analytics.aggregate import stats_refresh, today_refresh


@shared_task
def refresh_stats() -> int:
    """Every few minutes (beat): today's and yesterday's figures of the shops with new activity."""
    return stats_refresh()


@shared_task
def refresh_today(shop_id: int) -> int:
    """A page is looking at the shop's figures: today's row brought up to date (see views._both)."""
    return today_refresh(shop_id)


@shared_task
def send_weekly_summaries() -> int:
    """Every hour (beat): the Monday e-mails whose shop's local morning has come (analytics.weekly)."""
    return weekly.send_weekly_summaries()
