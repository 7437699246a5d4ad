from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "kinship.bookings"
    label = "bookings"
    verbose_name = "Bookings"
