from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "kinship.people"
    label = "people"
