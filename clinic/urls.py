from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import message_views, mfa_views, user_views, views
from clinic.forms import AdminEmailAuthenticationForm, EmailAuthenticationForm, PasswordResetRequestForm

clinic_patterns = (
    [
        path("setup/", views.setup, name="setup"),
        path("audit/", views.audit_log, name="audit_log"),
        path("users/", user_views.users, name="users"),
        path("users/invite/", user_views.user_invite, name="user_invite"),
        path("users/<int:pk>/", user_views.user_detail, name="user"),
        path("users/<int:pk>/roles/", user_views.user_roles, name="user_roles"),
        path("users/<int:pk>/deactivate/", user_views.user_deactivate, name="user_deactivate"),
        path("users/<int:pk>/reactivate/", user_views.user_reactivate, name="user_reactivate"),
        path("users/<int:pk>/password-link/", user_views.user_password_link, name="user_password_link"),
        path("users/<int:pk>/sessions/<int:session_pk>/end/", user_views.user_session_end, name="user_session_end"),
        path("audit/export.csv", views.audit_export, name="audit_export"),
        path("messages/", message_views.message_list, name="messages"),
        path("messages/<int:pk>/resend/", message_views.message_resend, name="message_resend"),
        path("sent-emails/", message_views.sent_email_list, name="sent_emails"),
        path("sent-emails/<int:pk>/", message_views.sent_email_detail, name="sent_email"),
        path("sent-emails/<int:pk>/html/", message_views.sent_email_html, name="sent_email_html"),
        path("users/<int:pk>/mfa-reset/", mfa_views.user_mfa_reset, name="user_mfa_reset"),
    ],
    "clinic",
)

mfa_patterns = (
    [
        path("enrol/", mfa_views.enrol, name="enrol"),
        path("recovery-codes/", mfa_views.recovery_codes, name="recovery_codes"),
        path("verify/", mfa_views.verify, name="verify"),
        path("security/", mfa_views.security, name="security"),
    ],
    "mfa",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm), name="login"),
    # The e-mail (emails/password_reset_*) is owed by clinic.password_reset, not sent here.
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetRequestForm),
        name="password_reset",
    ),
    path("accounts/mfa/", include(mfa_patterns)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("clinic/", include(clinic_patterns)),
    path("referrals/", include("referrals.urls")),
    path("scheduling/", include("scheduling.urls")),
    path("p/", include("scheduling.patient_urls")),  # patients, through signed links
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic administration"
# /admin/login/ counts failures for the same identity as /accounts/login/.
admin.site.login_form = AdminEmailAuthenticationForm
