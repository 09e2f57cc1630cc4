from django.urls import path

from referrals.views import access_requests, portal, shared, staff

app_name = "referrals"

urlpatterns = [
    # Referring physicians
    path("portal/", portal.portal, name="portal"),
    path("portal/new/", portal.portal_new, name="portal_new"),
    path("request-access/", portal.request_access, name="request_access"),
    path("<int:pk>/respond/", portal.respond, name="respond"),
    # Shared by referrers and staff (access decided per referral)
    path("<int:pk>/", shared.detail, name="detail"),
    path("<int:pk>/files/<int:file_pk>/", shared.attachment, name="attachment"),
    path("patients/<int:pk>/", shared.patient_detail, name="patient"),
    # Clinic staff
    path("triage/", staff.triage, name="triage"),
    path("intake/new/", staff.intake_new, name="intake_new"),
    path("<int:pk>/act/<slug:action>/", staff.act, name="act"),
    # Clinic admins
    path("access-requests/", access_requests.access_requests, name="access_requests"),
    path("access-requests/<int:pk>/", access_requests.access_request, name="access_request"),
    path("access-requests/<int:pk>/reject/", access_requests.access_request_reject, name="access_request_reject"),
]
