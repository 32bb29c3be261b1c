"""Shared by the commands that take --shop SLUG, and by the CSV imports (customers, products)."""

from django.core.management.base import CommandError

from customers.models import Shop


def shop_from_slug(slug: str) -> Shop:
    try:
        return Shop.objects.get(slug=slug)
    except Shop.DoesNotExist:
        known = ", ".join(Shop.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none yet"
        raise CommandError(f"No shop with slug “{slug}”. Known shops: {known}.") from None


def csv_import(command, *, path: str, run) -> None:
    """Read `path` (UTF-8, a spreadsheet's byte-order mark allowed), give it to `run(stream)` (an
    importer returning a report with `rejected` and `summary`), print each bad line and the summary;
    exit with status 2 when a line was rejected, after every good one went in."""
    try:
        # utf-8-sig: spreadsheets often save a byte-order mark first.
        with open(path, encoding="utf-8-sig", newline="") as stream:
            report = run(stream)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV.") from None
    for line, reason in report.rejected:
        command.stderr.write(f"line {line}: rejected: {reason}")
    command.stdout.write(report.summary)
    if report.rejected:
        # Non-zero so a script notices, after every good line went in.
        raise CommandError(
            f"{len(report.rejected)} line(s) rejected; the others were imported.", returncode=2
        )
