"""The API validates writes with the pages' own forms, so that a value the edit page refuses is refused
here too, with the same message, and the rules live in one place."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _
from rest_framework import exceptions


def form_errors(form) -> dict:
    """A bound form's errors as {field: [messages]}; errors of no one field as `non_field_errors`, the
    name DRF's own validation uses."""
    return {
        "non_field_errors" if name == NON_FIELD_ERRORS else name: [error["message"] for error in errors]
        for name, errors in form.errors.get_json_data().items()
    }


def form_changes(form_class, *, instance, data: dict, partial: bool, **form_kwargs) -> dict:
    """Validate `data` (a JSON object) with `form_class` over `instance`; the cleaned values of the
    fields sent (all the form's fields for a full update). Raises a DRF ValidationError otherwise."""
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    editable = list(form_class._meta.fields)
    unknown = sorted(set(data) - set(editable))
    if unknown:
        raise exceptions.ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    merged = model_to_dict(instance, fields=editable) if partial else {}
    merged.update({name: "" if value is None else value for name, value in data.items()})
    form = form_class(data=merged, instance=instance, **form_kwargs)
    if not form.is_valid():
        raise exceptions.ValidationError(form_errors(form))
    sent = data if partial else editable
    return {name: form.cleaned_data[name] for name in sent if name in form.cleaned_data}
