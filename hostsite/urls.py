"""Host site URLs: admin, login, and the embed pages.

/healthz, /readyz and /metrics are answered by hostsite.health.ProbeMiddleware.
"""

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("bench/bare/", views.bench_bare, name="bench_bare"),
    path("", include("embeds.urls")),
]
