from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kinship.core"
    label = "core"
    verbose_name = "Kinship core"
