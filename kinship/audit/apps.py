from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kinship.audit"
    label = "audit"
