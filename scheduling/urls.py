from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("my-day/", views.my_day, name="my_day"),
]
