"""Password hashes made by the systems Portcullis imports from, for tests/tests/import.rs.

Prints a JSON list of {"format", "password", "hash"}: Django's own `make_password` with each of its
hashers (as CVAT stores them in auth_user.password), Python's `bcrypt` for `$2b$` (Backend.AI's
legacy hashes), and Backend.AI's current hashers, following its code
(src/ai/backend/manager/models/hasher/ in its repository). Needs django, bcrypt and argon2-cffi
(scripts/lib.sh installs them in .venv).
"""

import hashlib
import json
import secrets

import argon2
import bcrypt
import django
from django.conf import settings

settings.configure(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ]
)
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402


def backend_ai_pbkdf2(name, password, rounds=100_000):
    # PBKDF2_SHA256Hasher / PBKDF2_SHA3_256Hasher.generate_new_hash
    salt = secrets.token_bytes(32)
    digest = hashlib.pbkdf2_hmac(name, password.encode("utf-8"), salt, rounds)
    algorithm = {"sha256": "pbkdf2_sha256", "sha3_256": "pbkdf2_sha3_256"}[name]
    return f"{algorithm}${rounds}${salt.hex()}${digest.hex()}"


def backend_ai_iterated(name, password, rounds=1_000):
    # SHA256Hasher / SHA3_256Hasher.generate_new_hash
    salt = secrets.token_bytes(32).hex()
    hashed = password
    for _ in range(rounds):
        hashed = getattr(hashlib, name)(f"{salt}{hashed}".encode()).hexdigest()
    return f"{name}${rounds}${salt}${hashed}"


def main():
    made = []
    for i, (name, hasher) in enumerate(
        [
            ("django pbkdf2_sha256", "pbkdf2_sha256"),
            ("django pbkdf2_sha1", "pbkdf2_sha1"),
            ("django argon2", "argon2"),
            ("django bcrypt_sha256", "bcrypt_sha256"),
            ("django bcrypt", "bcrypt"),
            ("django scrypt", "scrypt"),
        ]
    ):
        password = f"Django-{i}-pässword"
        made.append({"format": name, "password": password, "hash": make_password(password, hasher=hasher)})
    password = "Legacy-bcrypt-1"
    made.append(
        {
            "format": "bcrypt $2b$",
            "password": password,
            "hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode(),
        }
    )
    password = "Cheap-argon2id-1"
    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    made.append({"format": "argon2id below the configured cost", "password": password, "hash": cheap.hash(password)})
    for name in ["sha256", "sha3_256"]:
        password = f"Backend-{name}-pbkdf2"
        made.append({"format": f"backend.ai pbkdf2_{name}", "password": password, "hash": backend_ai_pbkdf2(name, password)})
        password = f"Backend-{name}-iterated"
        made.append({"format": f"backend.ai {name}", "password": password, "hash": backend_ai_iterated(name, password)})
    print(json.dumps(made))


main()
