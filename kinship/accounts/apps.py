from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kinship.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Sign-in, failed sign-in and sign-out are audited through Django's auth signals.
        from . import receivers

        receivers.connect()
