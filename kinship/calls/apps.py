from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "kinship.calls"
    label = "calls"
    verbose_name = "Calls"
