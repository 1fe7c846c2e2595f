"""A Django app that signs people in through Portcullis with django-allauth's generic
`openid_connect` provider (as CVAT does with any OpenID provider). Portcullis is named only by its
issuer: allauth reads `{issuer}/.well-known/openid-configuration` for everything else.

Settings from the environment:
  PORTCULLIS_ISSUER         Portcullis' public URL, e.g. http://127.0.0.1:8080
  PORTCULLIS_CLIENT_ID      from `portcullis clients create`
  PORTCULLIS_CLIENT_SECRET  from `portcullis clients create`
  EXAMPLE_DB                the SQLite file of this app (default: db.sqlite3 here)
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# An example on loopback: never deploy these three as they are.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

ROOT_URLCONF = "example.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DB", BASE_DIR / "db.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# Portcullis as the one way in.
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": "portcullis",
                "name": "Portcullis",
                "client_id": os.environ["PORTCULLIS_CLIENT_ID"],
                "secret": os.environ["PORTCULLIS_CLIENT_SECRET"],
                "settings": {"server_url": os.environ["PORTCULLIS_ISSUER"]},
            }
        ],
    }
}
SOCIALACCOUNT_LOGIN_ON_GET = True
SOCIALACCOUNT_AUTO_SIGNUP = True
# Portcullis has confirmed the address (or not) already; the ID token says which.
ACCOUNT_EMAIL_VERIFICATION = "none"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
