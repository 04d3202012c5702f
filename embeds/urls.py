from django.urls import path

from embeds import views

app_name = "embeds"

urlpatterns = [
    path("", views.home, name="home"),
    path("embeds/<slug:slug>/", views.embed_page, name="embed"),
    # JSON endpoints used by embeds/static/embeds/embed.js (POST, CSRF-checked).
    path("embeds/<slug:slug>/url/", views.embed_refresh, name="refresh"),
    path("embeds/<slug:slug>/errors/", views.embed_error_report, name="error_report"),
]
