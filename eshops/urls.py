from django.urls import path

from eshops import views

app_name = "eshops"
urlpatterns = [
    path("<str:provider>/<str:token>/", views.eshop_webhook, name="webhook"),
]
