"""Run one function from many threads at the same instant, each with its own database connection."""

import threading

from django.db import close_old_connections


def run_concurrently(count: int, target) -> tuple[list, list]:
    """Start `count` threads released together by a barrier; return (results, exceptions)."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - handed back to the test, which asserts on it
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
