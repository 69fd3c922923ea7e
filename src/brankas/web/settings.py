"""Django settings, read from ``BRANKAS_*`` environment variables (see ``brankas.core.config``).

No side effects: importing them reads the environment and, when it exists, the instance
secret (``config/secret_key``); they create no folder and write no file. The data folder
and the secret are made by ``brankas.instance.prepare``, which every entry point calls
before Django reads these settings (the ``brankas`` command, ``web/wsgi.py``,
``python -m brankas.instance manage``). Without a secret (an unprepared data folder and no
``BRANKAS_SECRET_KEY``) ``SECRET_KEY`` is empty, which Django refuses at first use.
"""

from __future__ import annotations

import os
from pathlib import Path

from brankas import instance as brankas_instance
from brankas.core import config as brankas_config

BRANKAS = brankas_config.load()
BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = (os.environ.get("BRANKAS_SECRET_KEY") or brankas_config.read_secret_key(BRANKAS)
              or "")
DEBUG = BRANKAS.debug
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("BRANKAS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "brankas.web.accounts",
    "brankas.web.keys",
    "brankas.web.documents",
    "brankas.web.audit",
    "brankas.web.backup",
    "brankas.web.custody",
    "brankas.web.sendrequests",
    "brankas.web.reports",
    "brankas.web.ui",
]
# issue 15 B: persistent jobs. django-tasks (Django 6's tasks framework, backported) with its
# database backend: the queue is a table of the instance's own database, on SQLite and
# PostgreSQL alike, no broker. ``brankas.web.jobs`` holds our job records (progress, result).
# A command that does not need the queue is set up without its apps (``instance.start``,
# queue=False: CLI start-up); our job records are always there (a user's jobs protect them).
if brankas_instance.queue_wanted():
    INSTALLED_APPS += brankas_instance.QUEUE_APPS
INSTALLED_APPS += ["brankas.web.jobs"]
INSTALLED_APPS += ["brankas.web.equipment"]  # s17 E: equipment and disk health (issue 17)
INSTALLED_APPS += ["brankas.web.offsite"]  # s18 OB: offsite copies (issue 18)
INSTALLED_APPS += ["brankas.web.text"]  # s19: the text of biasa documents (issue 19)
# s18 review: "offsite", the offsite push and verify jobs' own lane (web/jobs/worker.py)
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                     "QUEUES": ["default", "offsite", "ocr"]}}

MIDDLEWARE = [
    "brankas.web.ui.middleware.SwitchGateMiddleware",  # a recover's swap of the home
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "brankas.web.ui.middleware.IndonesianFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "brankas.web.ui.middleware.FirstRunMiddleware",
    "axes.middleware.AxesMiddleware",
]
# issue 14 A: a password reset by the admin is changed before anything else.
MIDDLEWARE += ["brankas.web.ui.accounts.middleware.PasswordChangeRequiredMiddleware"]

ROOT_URLCONF = "brankas.web.urls"
WSGI_APPLICATION = "brankas.web.wsgi.application"

# The web pages are one Django app (``ui``) organised by area, each area's templates beside its
# views and forms in ``ui/<area>/templates/ui/``. The names stay ``ui/<page>.html``; the area
# folders are listed here (Django's app-directories loader looks only in ``ui/templates/``).
# The shared templates (base, error pages, form partials) are in ``web/templates``.
UI_AREAS = ("accounts", "audit", "backup", "custody", "dashboard", "documents", "keys",
            "reports", "sendrequests")
UI_AREAS += ("office",)  # type: ignore[assignment]  # issue 14 B: the office profile page
UI_AREAS += ("equipment",)  # type: ignore[assignment]  # s17 E: the equipment pages
UI_AREAS += ("offsite",)  # type: ignore[assignment]  # s18 OC: the offsite pages

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates",
                 *(BASE_DIR / "ui" / area / "templates" for area in UI_AREAS)],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "brankas.web.ui.context.brankas",
            ]
        },
    }
]


# SQLite, wherever its file is: IMMEDIATE: a writing transaction takes the write lock at
# BEGIN, so two processes numbering agendas at once queue instead of failing mid-way.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    # how long a writer waits for another's write lock (a backup's consistent read holds it
    # for minutes at 100,000 documents; the text job waits longer still: web/text/services)
    "timeout": brankas_config.positive_int("BRANKAS_SQLITE_TIMEOUT", 30),
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
}


def _databases() -> dict[str, dict[str, object]]:
    if BRANKAS.database_url:
        # PostgreSQL (docs/server.md): connections kept a minute, checked before reuse (a
        # restarted database server costs one reconnect, not an error page). An
        # sqlite:/// URL (a database moved back by migrate-db) gets the same options as the
        # data folder's file.
        import dj_database_url

        config = dict(dj_database_url.parse(BRANKAS.database_url, conn_max_age=60,
                                            conn_health_checks=True))
        if config.get("ENGINE") == "django.db.backends.sqlite3":
            config.update(CONN_MAX_AGE=0, OPTIONS=dict(SQLITE_OPTIONS))
        return {"default": config}
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BRANKAS.database_path),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "brankas.web.accounts.hashers.BrankasArgon2PasswordHasher",
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

# django-axes: lock a username from one address after repeated failures (issue 14: from any
# address, anyone could lock the Kadis out; docs/security.md "Lock-out"). The command line's
# attempts have no address (accounts/lockout.py). The admin unlocks (Users page, CLI).
AXES_FAILURE_LIMIT = int(os.environ.get("BRANKAS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "brankas.web.accounts.lockout.client_address"
BRANKAS_TRUST_FORWARDED_FOR = os.environ.get("BRANKAS_BEHIND_PROXY", "") in {"1", "true", "yes"}
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "ui/locked.html"
# A name that is no user's is stored and locked as "unknown:<tag>", never as typed (it is
# often a password); a user's name is kept, so the per-user lockout is unchanged.
AXES_USERNAME_CALLABLE = "brankas.web.accounts.loginname.axes_username"
# Never copied into axes's record of the request (its POST data).
AXES_SENSITIVE_PARAMETERS = ["username", "password", "ip_address", "code", "passphrase",
                             "csrfmiddlewaretoken"]

LOGIN_URL = "ui:login"
LOGIN_REDIRECT_URL = "ui:dashboard"
LOGOUT_REDIRECT_URL = "ui:login"

LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("BRANKAS_TIME_ZONE", "Asia/Jakarta")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BRANKAS.home / "static"

# Uploads never touch disk: the only handler keeps them in memory up to the limit.
FILE_UPLOAD_HANDLERS = ["brankas.web.ui.uploads.MemoryOnlyUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = BRANKAS.max_upload_mb * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 200

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # django-axes reports every failure at INFO/WARNING; the audit log records them instead.
    "loggers": {"axes": {"handlers": [], "level": "ERROR", "propagate": False}},
}

# ---------------------------------------------------------------- hardening (issue 6)
# Content Security Policy (django-csp): everything from this server only, no inline script
# or style, no plugins, no framing (the PDF view alone may be framed by our own pages).
INSTALLED_APPS += ["csp", "django_otp", "django_otp.plugins.otp_totp"]
MIDDLEWARE += ["csp.middleware.CSPMiddleware", "brankas.web.ui.security.IdleTimeoutMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "frame-src": ["'self'"],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A signed-in session unused this long ends (minutes; BRANKAS_SESSION_IDLE_MINUTES).
BRANKAS_SESSION_IDLE_SECONDS = brankas_config.positive_int("BRANKAS_SESSION_IDLE_MINUTES", 30) * 60

# Production (BRANKAS_PRODUCTION=1): behind HTTPS. Secure cookies, HSTS, HTTPS redirect;
# passes ``manage.py check --deploy``. BRANKAS_BEHIND_PROXY=1 trusts X-Forwarded-Proto from
# the reverse proxy that terminates TLS.
BRANKAS_PRODUCTION = os.environ.get("BRANKAS_PRODUCTION", "") in {"1", "true", "yes"}
if BRANKAS_PRODUCTION:
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if os.environ.get("BRANKAS_BEHIND_PROXY", "") in {"1", "true", "yes"}:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# ---------------------------------------------------------------- a command's process
# A command that serves no page (issue 15, CLI start-up; ``instance.start(web=False)``) is
# set up without the web-only apps (none has a model or a migration; no command renders a
# template) and without Django's default logging, which ``instance.command_logging``
# replaces with the same console output minus the e-mail handler (no ``ADMINS``: a no-op
# that imports the debug views and the template engine).
if not brankas_instance.web_wanted():
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in brankas_instance.WEB_APPS]
    LOGGING_CONFIG = None
