from django.apps import AppConfig


class SafeguardingConfig(AppConfig):
    name = "kinship.safeguarding"
    label = "safeguarding"
    verbose_name = "Safeguarding"
