from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "kinship.recordings"
    label = "recordings"
    verbose_name = "Recordings"
