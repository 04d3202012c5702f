"""A host site's own pages that use ``{% sigma_embed %}`` (URLconf for the tag tests)."""

from django.http import HttpResponse, StreamingHttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import include, path

from embeds.http import sigma_embed_page

PAGE = """{% load sigma_embed %}<!doctype html><title>Dashboard</title>
<h1>Dashboard</h1>{% sigma_embed slug %}{% if second %}{% sigma_embed second %}{% endif %}"""


def dashboard(request):
    template = engines["django"].from_string(PAGE)
    return HttpResponse(
        template.render(
            {"slug": request.GET.get("slug", ""), "second": request.GET.get("second")},
            request,
        )
    )


@sigma_embed_page
def decorated_dashboard(request):
    return dashboard(request)


def streamed_dashboard(request):
    # A host page that streams its body: the template renders while it is sent.
    def parts():
        yield "<!doctype html>"
        yield dashboard(request).content.decode()

    return StreamingHttpResponse(parts(), content_type="text/html")


@sigma_embed_page
def decorated_streamed_dashboard(request):
    return streamed_dashboard(request)


def plain(request):
    return HttpResponse("<!doctype html><title>Plain</title><p>No embed here.</p>")


@sigma_embed_page
def decorated(request):
    template = engines["django"].from_string("<p>{{ text }}</p>")
    return TemplateResponse(request, template, {"text": "framed"})


urlpatterns = [
    path("dashboard/", dashboard),
    path("decorated-dashboard/", decorated_dashboard),
    path("streamed-dashboard/", streamed_dashboard),
    path("decorated-streamed-dashboard/", decorated_streamed_dashboard),
    path("plain/", plain),
    path("decorated/", decorated),
    path("embeds/", include("embeds.urls")),
]
