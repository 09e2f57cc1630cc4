from django.urls import path

from scheduling import admin_views, views

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
    # Clinic admins
    path("admin/hours/<int:location_pk>/", admin_views.hours, name="admin_hours"),
    path("admin/closures/", admin_views.closures, name="admin_closures"),
    path("admin/closures/<int:pk>/toggle/", admin_views.closure_toggle, name="admin_closure_toggle"),
    path("admin/providers/<int:pk>/", admin_views.provider_calendar, name="admin_provider"),
    path("admin/templates/<int:pk>/delete/", admin_views.template_delete, name="admin_template_delete"),
]
