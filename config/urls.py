"""URL configuration. Each app owns its URLs; the back-office admin sits behind staff 2FA like every staff page."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("kinship.core.urls")),
    path("", include("kinship.accounts.urls")),
    path("calls/", include("kinship.bookings.urls_contact")),
    path("calls/", include("kinship.calls.urls_contact")),
    path("terminal/", include("kinship.bookings.urls_terminal")),
    path("terminal/", include("kinship.calls.urls_terminal")),
    path("staff/", include("kinship.establishments.urls")),
    path("staff/", include("kinship.people.urls")),
    path("staff/", include("kinship.bookings.urls_staff")),
    path("staff/", include("kinship.safeguarding.urls_restrictions")),
    path("staff/", include("kinship.safeguarding.urls_welfare")),
    path("staff/", include("kinship.calls.urls")),
    path("staff/", include("kinship.recordings.urls")),
    path("staff/", include("kinship.calls.urls_monitoring")),
    path("api/v1/", include("kinship.api.urls")),
    path("back-office/", admin.site.urls),
]

handler400 = "kinship.core.views.bad_request"
handler403 = "kinship.core.views.permission_denied"
handler404 = "kinship.core.views.page_not_found"
handler500 = "kinship.core.views.server_error"
