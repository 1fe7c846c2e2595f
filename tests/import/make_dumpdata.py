"""A CVAT-like `manage.py dumpdata auth.user account.emailaddress socialaccount.socialaccount`,
made by Django and django-allauth themselves, for tests/tests/import.rs.

A superuser with a verified address, an inactive user, a user whose address is not verified, and a
user who signs in with Google only (an unusable password and a social account). Prints the
dumpdata JSON; the passwords are in PASSWORDS below.
"""

import io

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sites",
        "allauth",
        "allauth.account",
        "allauth.socialaccount",
        "allauth.socialaccount.providers.google",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SITE_ID=1,
    MIDDLEWARE=["allauth.account.middleware.AccountMiddleware"],
    USE_TZ=True,
    PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
)
django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from allauth.socialaccount.models import SocialAccount  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)

admin = User.objects.create_superuser("cvat_admin", "Admin@CVAT.example", "Admin-pass-1")
EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
gone = User.objects.create_user("former", "former@cvat.example", "Former-pass-1", is_active=False)
EmailAddress.objects.create(user=gone, email=gone.email, verified=True, primary=True)
fresh = User.objects.create_user("unverified", "unverified@cvat.example", "Fresh-pass-1")
EmailAddress.objects.create(user=fresh, email=fresh.email, verified=False, primary=True)
googler = User.objects.create_user("googler", "googler@cvat.example")
googler.set_unusable_password()
googler.save()
EmailAddress.objects.create(user=googler, email=googler.email, verified=True, primary=True)
SocialAccount.objects.create(user=googler, provider="google", uid="109876543210", extra_data={})

out = io.StringIO()
call_command(
    "dumpdata", "auth.user", "account.emailaddress", "socialaccount.socialaccount",
    format="json", stdout=out,
)
print(out.getvalue())
