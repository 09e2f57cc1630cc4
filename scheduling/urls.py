from django.urls import path

from scheduling.views import admin, booking, calendars, courses, orders, patients, queues

app_name = "scheduling"

urlpatterns = [
    path("queue/", booking.queue, name="queue"),
    path("find/", booking.find, name="find"),
    path("book/", booking.book, name="book"),
    path("appointments/<int:pk>/", booking.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/cancel/", booking.appointment_cancel, name="cancel"),
    path("appointments/<int:pk>/status/", booking.appointment_status, name="status"),
    path("patients/", patients.patients, name="patients"),
    path("patients/<int:pk>/", patients.patient_chart, name="patient"),
    path("patients/<int:pk>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/courses/new/", courses.course_enrol, name="course_enrol"),
    path("courses/<int:pk>/", courses.course, name="course"),
    path("courses/<int:pk>/decide/", courses.course_decide, name="course_decide"),
    path("courses/<int:pk>/close/", courses.course_close, name="course_close"),
    path("courses/to-decide/", courses.courses_to_decide, name="courses_to_decide"),
    path("patients/<int:pk>/order/", orders.order_new, name="order_new"),
    path("orders/<int:pk>/", orders.order_detail, name="order"),
    path("orders/<int:pk>/cancel/", orders.order_cancel, name="order_cancel"),
    path("day/", calendars.day, name="day"),
    path("week/", calendars.week, name="week"),
    path("day/open/", calendars.open_day, name="open_day"),
    path("my-day/", calendars.my_day, name="my_day"),
    path("my-day/sheet/", calendars.day_sheet, name="day_sheet"),
    path("patient-requests/", queues.patient_requests, name="patient_requests"),
    path("patient-requests/<int:pk>/handled/", queues.patient_request_handled, name="patient_request_handled"),
    path("no-response/", queues.no_response, name="no_response"),
    path("follow-ups/<int:pk>/close/", queues.follow_up_close, name="follow_up_close"),
    path("repeat-due/", queues.repeat_due, name="repeat_due"),
    path("repeat-due/<int:pk>/dismiss/", queues.repeat_due_dismiss, name="repeat_due_dismiss"),
    # Clinic admins
    path("admin/hours/<int:location_pk>/", admin.hours, name="admin_hours"),
    path("admin/closures/", admin.closures, name="admin_closures"),
    path("admin/closures/<int:pk>/toggle/", admin.closure_toggle, name="admin_closure_toggle"),
    path("admin/closures/<int:pk>/remove/", admin.closure_remove, name="admin_closure_remove"),
    path("admin/providers/<int:pk>/", admin.provider_calendar, name="admin_provider"),
    path("admin/templates/<int:pk>/delete/", admin.template_delete, name="admin_template_delete"),
    path("admin/extra/<int:pk>/delete/", admin.extra_delete, name="admin_extra_delete"),
    path("admin/time-off/<int:pk>/remove/", admin.time_off_remove, name="admin_time_off_remove"),
]
