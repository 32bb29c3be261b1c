from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("twilio/sms/", views.twilio_inbound, name="twilio-sms"),
    path("twilio/whatsapp/", views.twilio_inbound, name="twilio-whatsapp"),
    path("twilio/status/", views.twilio_status, name="twilio-status"),
    path("whatsapp/", views.whatsapp, name="whatsapp"),
]
