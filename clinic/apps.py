from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="clinic.sync_roles")
        from clinic import user_sessions

        user_sessions.connect_signals()
        from clinic import (
            audit,  # noqa: F401  (connects the failed-login recorder)
            mfa,  # noqa: F401  (connects the reset of failures at a complete login)
        )


def _sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    """Keep role groups in step with clinic.roles after every migrate.

    Django creates permissions in its own post_migrate handler, one app at a time, so this
    waits for the signal of the last installed app with models (only those get the signal),
    when every permission exists.
    """
    from clinic.services import roles_sync_groups

    last_app = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if app_config is not None and app_config.label == last_app.label:
        roles_sync_groups(using=using)
