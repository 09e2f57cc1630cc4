from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import message_views, views
from clinic.forms import EmailAuthenticationForm

clinic_patterns = (
    [
        path("setup/", views.setup, name="setup"),
        path("audit/", views.audit_log, name="audit_log"),
        path("audit/export.csv", views.audit_export, name="audit_export"),
        path("messages/", message_views.message_list, name="messages"),
        path("messages/<int:pk>/resend/", message_views.message_resend, name="message_resend"),
        path("sent-emails/", message_views.sent_email_list, name="sent_emails"),
        path("sent-emails/<int:pk>/", message_views.sent_email_detail, name="sent_email"),
        path("sent-emails/<int:pk>/html/", message_views.sent_email_html, name="sent_email_html"),
    ],
    "clinic",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm), name="login"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(
            subject_template_name="emails/password_reset_subject.txt",
            email_template_name="emails/password_reset.txt",
            html_email_template_name="emails/password_reset.html",
        ),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("clinic/", include(clinic_patterns)),
    path("referrals/", include("referrals.urls")),
    path("scheduling/", include("scheduling.urls")),
    path("p/", include("scheduling.patient_urls")),  # patients, through signed links
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic administration"
