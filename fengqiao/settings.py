"""Settings, all from the environment; the demo makes its own keys under var/."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FENGQIAO_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# "production" refuses to start without its secrets; "demo" (the default) makes them under var/.
FENGQIAO_ENV = os.environ.get("FENGQIAO_ENV", "demo")
PRODUCTION = FENGQIAO_ENV == "production"


def _secret(name: str, make: str) -> str:
    """Return the secret from the environment, or (outside production) a generated one in var/."""
    value = os.environ.get(name, "")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set in production (FENGQIAO_ENV=production).")
    path = VAR_DIR / name.lower()
    try:  # exclusive create: parallel first starts agree on one key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(make)
    return make


SECRET_KEY = _secret("SECRET_KEY", secrets.token_urlsafe(50))
# One or more Fernet keys, comma-separated; the first encrypts, all decrypt (key rotation).
FENGQIAO_FIELD_KEY = _secret("FENGQIAO_FIELD_KEY", Fernet.generate_key().decode())

# Keys the audit chain's hashes; by default derived from SECRET_KEY. Set it separately to keep
# verifying old entries across a rotation of SECRET_KEY.
FENGQIAO_AUDIT_KEY = os.environ.get("FENGQIAO_AUDIT_KEY", "") or SECRET_KEY

DEBUG = os.environ.get("DEBUG", "") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "huey.contrib.djhuey",
    "fengqiao.core",
    "fengqiao.accounts",
    "fengqiao.areas",
    "fengqiao.disputes",
    "fengqiao.incidents",
    "fengqiao.analytics",
    "fengqiao.demo",
    "fengqiao.portal",
]

MIDDLEWARE = [
    # Outermost, so that every error under /api/ (404, 405, 500) leaves as JSON.
    "fengqiao.core.middleware.api_json_errors",
    "django.middleware.security.SecurityMiddleware",
    "fengqiao.core.security.content_security_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fengqiao.core.locale.ChineseFirstLocaleMiddleware",
    # After the language is chosen, before anything (CSRF) reads the body.
    "fengqiao.core.uploads.request_size_limit",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A page whose cursor is broken goes back to its first page (the API answers 422).
    "fengqiao.core.pagination.BadCursorPages",
    # Outside /api/, an empty 405 becomes the Chinese 405 page (inside CSRF: the page's token).
    "fengqiao.core.errorpages.method_not_allowed_page",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

CSRF_FAILURE_VIEW = "fengqiao.core.views.csrf_failure"
ROOT_URLCONF = "fengqiao.urls"
WSGI_APPLICATION = "fengqiao.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fengqiao" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fengqiao.context.navigation",
            ],
        },
    }
]

# --- database: SQLite under var/ by default, PostgreSQL (or another) from DATABASE_URL ---
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "fengqiao.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background jobs: Huey on SQLite by default, on Redis from REDIS_URL ---
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY: dict[str, object]
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "fengqiao",
        "url": REDIS_URL,
        "immediate": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "fengqiao",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": False,
    }
if os.environ.get("FENGQIAO_HUEY_IMMEDIATE") == "1":
    HUEY["immediate"] = True

# --- accounts ---
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = int(os.environ.get("FENGQIAO_SESSION_SECONDS", 8 * 3600))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: the clock restarts on every request
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

# Lockout after repeated failures, per (username, address), so nobody can lock others out.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# --- i18n: Chinese first, English too ---
LANGUAGE_CODE = "zh-hans"
# Each language is named in itself, so anyone can find their own.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "fengqiao" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "fengqiao" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = VAR_DIR / "media"

# Uploads: refused by Content-Length before they are read (core.uploads), with a message.
FENGQIAO_MAX_UPLOAD_BYTES = int(os.environ.get("FENGQIAO_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
# A case's attachment (photo, scan, PDF): at most this per file, and never more than a request.
FENGQIAO_ATTACHMENT_MAX_BYTES = min(
    int(os.environ.get("FENGQIAO_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)),
    FENGQIAO_MAX_UPLOAD_BYTES,
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Map tiles: none by default (the map works on boundaries alone); e.g.
# FENGQIAO_TILE_URL="https://tiles.example/{z}/{x}/{y}.png"
FENGQIAO_TILE_URL = os.environ.get("FENGQIAO_TILE_URL", "")
FENGQIAO_TILE_ATTRIBUTION = os.environ.get("FENGQIAO_TILE_ATTRIBUTION", "")

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("FENGQIAO_SSL_REDIRECT", "1") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "jieba": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
