"""Interactions as HubSpot notes on the contact (a mixin of HubSpotBackend).

Notes have no unique property to upsert on and HubSpot promises no trace id back, so each request
carries notes whose `hs_timestamp`s differ (to the millisecond): a result is then recognised by its
timestamp. Two notes of the same millisecond go in separate requests, which is rare.
"""

import html

from crm_backends.base import InteractionPayload
from crm_backends.hubspot_results import Sent, hs_timestamp, outcome

NOTE_TO_CONTACT = 202  # HubSpot-defined association type: note -> contact
MAX_NOTE_BODY = 65_000


class NotesMixin:
    def push_interactions(self, items):
        outcomes = {}
        for batch in chunks_with_unique_timestamps(items, self.interaction_batch_size):
            sent = [Sent(i.interaction_id, self._note(i), _identity(i)) for i in batch]
            answers = self._send("/crm/v3/objects/notes/batch/create", sent)
            for item in batch:
                outcomes[item.interaction_id] = outcome(item.interaction_id, answers[item.interaction_id])
        return [outcomes[i.interaction_id] for i in items]  # _send answers for every input

    def update_interactions(self, items):
        """Rewrite pushed notes (a new delivery status) by id, 100 a request. A note deleted in HubSpot
        since has nothing left to update: done."""
        outcomes = {}
        for start in range(0, len(items), self.interaction_batch_size):
            batch = items[start : start + self.interaction_batch_size]
            sent = [
                Sent(
                    i.interaction_id,
                    {"id": i.external_id, "properties": {"hs_note_body": note_body(i)}},
                    ("hs_object_id", i.external_id),
                )
                for i in batch
            ]
            answers = self._send("/crm/v3/objects/notes/batch/update", sent)
            for item in batch:
                answer = answers[item.interaction_id]
                if isinstance(answer, list) and any(e.get("category") == "OBJECT_NOT_FOUND" for e in answer):
                    answer = item.external_id
                outcomes[item.interaction_id] = outcome(item.interaction_id, answer)
        return [outcomes[i.interaction_id] for i in items]

    def _note(self, item: InteractionPayload) -> dict:
        return {
            "properties": {"hs_timestamp": hs_timestamp(item.occurred_at), "hs_note_body": note_body(item)},
            "associations": [
                {
                    "to": {"id": item.contact_external_id},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}
                    ],
                }
            ],
            "objectWriteTraceId": str(item.interaction_id),
        }


def _identity(item) -> tuple[str, str]:
    return "hs_timestamp", hs_timestamp(item.occurred_at)


def chunks_with_unique_timestamps(items, size):
    """Batches of at most `size` in which no two notes share a millisecond (so results can be told
    apart without a trace id); a note that would repeat one waits for a later batch."""
    waiting = list(items)
    while waiting:
        batch, stamps, later = [], set(), []
        for item in waiting:
            stamp = hs_timestamp(item.occurred_at)
            if len(batch) < size and stamp not in stamps:
                batch.append(item)
                stamps.add(stamp)
            else:
                later.append(item)
        yield batch
        waiting = later


def note_body(item: InteractionPayload) -> str:
    """HubSpot shows note bodies as HTML: the customer's text is escaped, never interpreted."""
    arrow = "from the customer" if item.direction == "inbound" else "to the customer"
    by = f" by {item.author}" if item.author else ""
    head = f"<p><strong>{html.escape(item.channel.upper())} {arrow}{html.escape(by)}</strong></p>"
    # Outbound messages say how far they got (delivered, read, failed): updated as reports come in.
    status = f"<p><em>Status: {html.escape(item.status)}</em></p>" if item.status else ""
    text = "<p>" + html.escape(item.body).replace("\n", "<br>") + "</p>"
    return (head + status + text)[:MAX_NOTE_BODY]
