from django.contrib.auth.views import LoginView
from django.urls import path

from .views import SignOutView

urlpatterns = [
    # Failed attempts are counted where Django authenticates (django-axes), so this
    # door and /admin/login/ share one protection; see accounts/signin.py.
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", SignOutView.as_view(), name="logout"),
]
