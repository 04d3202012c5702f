from django.contrib.auth import views as auth_views
from django.urls import path

from .login_protection import ProtectedLoginView

urlpatterns = [
    # Failed attempts are counted in the cache; see accounts/login_protection.py.
    path("login/", ProtectedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
