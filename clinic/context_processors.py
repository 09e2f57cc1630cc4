from django.http import HttpRequest

from clinic.outbox import mail_goes_to_files
from clinic.roles import roles_of


def navigation(request: HttpRequest) -> dict:
    """The role links for the top navigation: each role the user holds, once; and whether
    mail goes to files, where staff get a "Sent e-mails" link."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_roles": [], "nav_sent_emails": False}
    return {"nav_roles": [role.spec for role in roles_of(user)], "nav_sent_emails": mail_goes_to_files()}
