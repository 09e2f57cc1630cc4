from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("triage/", views.triage, name="triage"),
]
