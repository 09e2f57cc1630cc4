from django.urls import path

from scheduling import admin_views, queue_views, request_views, views

app_name = "scheduling"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("find/", views.find, name="find"),
    path("book/", views.book, name="book"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="cancel"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="status"),
    path("day/", views.day, name="day"),
    path("week/", views.week, name="week"),
    path("my-day/", views.my_day, name="my_day"),
    path("patient-requests/", request_views.patient_requests, name="patient_requests"),
    path("patient-requests/<int:pk>/handled/", request_views.patient_request_handled, name="patient_request_handled"),
    path("no-response/", queue_views.no_response, name="no_response"),
    path("follow-ups/<int:pk>/close/", queue_views.follow_up_close, name="follow_up_close"),
    path("repeat-due/", queue_views.repeat_due, name="repeat_due"),
    path("repeat-due/<int:pk>/dismiss/", queue_views.repeat_due_dismiss, name="repeat_due_dismiss"),
    # Clinic admins
    path("admin/hours/<int:location_pk>/", admin_views.hours, name="admin_hours"),
    path("admin/closures/", admin_views.closures, name="admin_closures"),
    path("admin/closures/<int:pk>/toggle/", admin_views.closure_toggle, name="admin_closure_toggle"),
    path("admin/providers/<int:pk>/", admin_views.provider_calendar, name="admin_provider"),
    path("admin/templates/<int:pk>/delete/", admin_views.template_delete, name="admin_template_delete"),
    path("admin/extra/<int:pk>/delete/", admin_views.extra_delete, name="admin_extra_delete"),
]
