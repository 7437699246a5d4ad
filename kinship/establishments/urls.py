app_name = "establishments"

urlpatterns: list = []
