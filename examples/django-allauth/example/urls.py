from django.http import HttpResponse
from django.urls import include, path
from django.utils.html import escape


def home(request):
    """Who is signed in, or the way to sign in."""
    if request.user.is_authenticated:
        user = request.user
        body = (
            f'<h1>Signed in</h1><p id="who">{escape(user.email)} as {escape(user.username)}</p>'
        )
    else:
        body = '<h1>Welcome</h1><p><a href="/accounts/oidc/portcullis/login/">Sign in with Portcullis</a></p>'
    return HttpResponse(f'<!doctype html><html lang="en"><title>Example</title>{body}')


urlpatterns = [
    path("", home),
    path("accounts/", include("allauth.urls")),
]
