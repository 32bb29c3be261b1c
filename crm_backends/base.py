"""The small interface every CRM backend implements, and the values that cross it.

A backend turns batches of provider-neutral payloads into vendor calls and reports, per item, what
happened. Whole-call failures raise `CrmError` (coccinelle.http.ExternalServiceError), whose
`permanent` says whether retrying can help.
"""

from dataclasses import dataclass, field
from datetime import datetime

from coccinelle.http import ExternalServiceError
from crm_backends.options import options_errors

CrmError = ExternalServiceError


@dataclass(frozen=True)
class CustomerPayload:
    customer_id: int
    external_id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    whatsapp_phone: str | None
    segment: str
    tags: tuple[str, ...]
    language: str
    opted_out: bool


@dataclass(frozen=True)
class InteractionPayload:
    interaction_id: int
    customer_id: int
    contact_external_id: str
    occurred_at: datetime
    channel: str
    direction: str
    body: str
    author: str = ""
    status: str = ""  # the delivery status of an outbound message, shown on the note or task
    external_id: str = ""  # the note or task already pushed for it (a status update), else ""


@dataclass(frozen=True)
class ErasePayload:
    """A contact to erase: only the CRM's ids, the customer row is gone. `key` is the outbox row's id."""

    key: int
    external_id: str
    activities: tuple[str, ...] = ()  # the notes or tasks Coccinelle pushed for them


@dataclass(frozen=True)
class MergePayload:
    """Two contacts of one person: `merged_id` goes into `primary_id`. `key` is the outbox row's id."""

    key: int
    primary_id: str
    merged_id: str


@dataclass(frozen=True)
class PushOutcome:
    """What happened to one item: pushed (with the CRM's id for it), or failed and why."""

    key: int  # customer_id or interaction_id
    ok: bool
    external_id: str = ""
    error: str = ""
    permanent: bool = True


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class PulledContact:
    external_id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    extra: dict = field(default_factory=dict)


class CrmBackend:
    """Base class: `native` is this with nothing to push."""

    name = "native"
    label = "Coccinelle only"
    customer_batch_size = 100
    interaction_batch_size = 100
    # {option name: check} (see options.py); None: the backend reads no options at all.
    options_schema: dict | None = None

    def __init__(self, connection):
        self.connection = connection
        self.options = connection.options or {}
        errors = self.option_errors(self.options)
        if errors:
            raise CrmError(f"{self.label} options: " + "; ".join(errors), permanent=True)

    @classmethod
    def option_errors(cls, options) -> list[str]:
        return [] if cls.options_schema is None else options_errors(options, cls.options_schema)

    def option(self, name, default):
        """An option's value; absent or null is the default."""
        value = self.options.get(name)
        return default if value is None else value

    def push_customers(self, items: list[CustomerPayload]) -> list[PushOutcome]:
        return [PushOutcome(key=item.customer_id, ok=True) for item in items]

    def push_interactions(self, items: list[InteractionPayload]) -> list[PushOutcome]:
        return [PushOutcome(key=item.interaction_id, ok=True) for item in items]

    def update_interactions(self, items: list[InteractionPayload]) -> list[PushOutcome]:
        """Rewrite notes or tasks already pushed (`external_id`), e.g. with a new delivery status."""
        return [PushOutcome(key=item.interaction_id, ok=True) for item in items]

    def erase_contacts(self, items: list[ErasePayload]) -> list[PushOutcome]:
        """Delete or anonymise (option `on_erase`) erased customers' contacts and the activities
        pushed for them. A contact already gone is erased: ok."""
        return [PushOutcome(key=item.key, ok=True) for item in items]

    def merge_contacts(self, items: list[MergePayload]) -> list[PushOutcome]:
        """Merge each `merged_id` into its `primary_id`; an ok outcome's `external_id` is the contact
        that survives (the primary, or the merged one when the primary is gone)."""
        return [PushOutcome(key=item.key, ok=True, external_id=item.primary_id) for item in items]

    @property
    def erase_mode(self) -> str:
        return self.option("on_erase", "delete")

    def test_connection(self) -> list[Check]:
        return [Check("native", True, "Customers stay in Coccinelle; nothing is pushed.")]

    def pull_contacts(self):
        return iter(())

    def external_url(self, external_id: str) -> str:
        return ""

    def revoke(self) -> None:
        """The connection is being deleted: give its credentials back to the vendor if it has a way
        (an OAuth refresh token). Best effort, bounded in time, never raises."""
