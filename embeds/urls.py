from django.urls import path

from . import views

app_name = "embeds"

urlpatterns = [
    path("", views.home, name="home"),
    path("embeds/<slug:slug>/", views.embed_page, name="embed"),
]
