from django.apps import AppConfig


class EstablishmentsConfig(AppConfig):
    name = "kinship.establishments"
    label = "establishments"
