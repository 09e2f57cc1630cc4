from django.http import HttpRequest

from clinic.roles import roles_of


def navigation(request: HttpRequest) -> dict:
    """The role links for the top navigation: each role the user holds, once."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_roles": []}
    return {"nav_roles": [role.spec for role in roles_of(user)]}
