from django.urls import path

from .login_protection import ProtectedLoginView
from .views import SignOutView

urlpatterns = [
    # Failed attempts are counted in the cache; see accounts/login_protection.py.
    path("login/", ProtectedLoginView.as_view(), name="login"),
    path("logout/", SignOutView.as_view(), name="logout"),
]
