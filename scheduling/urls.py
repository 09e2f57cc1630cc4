from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("find/", views.find, name="find"),
    path("book/", views.book, name="book"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="cancel"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="status"),
    path("day/", views.day, name="day"),
    path("my-day/", views.my_day, name="my_day"),
]
