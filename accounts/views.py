"""Sign-out that also works from pages sent with Referrer-Policy: no-referrer."""

from django.contrib import messages
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class SignOutView(LogoutView):
    """GET shows a confirmation with a POST button; POST signs out (Django's view).

    Pages that carry a signed URL are served with ``Referrer-Policy: no-referrer``,
    under which browsers send ``Origin: null`` with form posts and Django's CSRF
    check refuses them. Their "Sign out" is therefore a link to this page.
    """

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(request, "registration/logout_confirm.html")

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            # After logout() the session is new; the message lives in it until shown
            # on the sign-in page the view redirects to.
            messages.info(request, "You are signed out.")
        return response
