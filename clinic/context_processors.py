from django.http import HttpRequest

from clinic.outbox import mail_goes_to_files
from clinic.roles import nav_entries_of


def navigation(request: HttpRequest) -> dict:
    """The top navigation's links: those of every role the user holds (see clinic.roles)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_entries": []}
    return {"nav_entries": nav_entries_of(user, file_mail=mail_goes_to_files())}
