"""Pages patients reach from an e-mail's signed link, without logging in (``/p/...``)."""

from django.urls import path

from scheduling.views import patient

app_name = "patient"

urlpatterns = [
    path("confirm/<str:token>/", patient.confirm, name="confirm"),
    path("change/<str:token>/", patient.change, name="change"),
    path("follow-up/<str:token>/", patient.follow_up, name="follow-up"),
]
