"""Pages patients reach from an e-mail's signed link, without logging in (``/p/...``)."""

from django.urls import path

from scheduling import follow_up_views, patient_views

app_name = "patient"

urlpatterns = [
    path("confirm/<str:token>/", patient_views.confirm, name="confirm"),
    path("change/<str:token>/", patient_views.change, name="change"),
    path("follow-up/<str:token>/", follow_up_views.follow_up, name="follow-up"),
]
