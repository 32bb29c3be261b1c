import json

from django.db import connection
from django.http import HttpResponse
from django.urls import path

from bench.bare import TABLE

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
INSERT = (
    f"INSERT INTO {TABLE} (message_sid, sender, recipient, form) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (message_sid) DO NOTHING"
)


def twilio_inbound(request):
    form = {key: values[0] if len(values) == 1 else values for key, values in request.POST.lists()}
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT, [form.get("MessageSid", ""), form.get("From", ""), form.get("To", ""), json.dumps(form)]
        )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


urlpatterns = [path("webhooks/twilio/sms/", twilio_inbound)]
