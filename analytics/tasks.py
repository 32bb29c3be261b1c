from celery import shared_task

from analytics.aggregate import stats_refresh


@shared_task
def refresh_stats() -> int:
    """Every few minutes (beat): today's and yesterday's figures of the shops with new activity."""
    return stats_refresh()
