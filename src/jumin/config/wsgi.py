"""WSGI entry point: ``jumin.config.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumin.config.settings")
application = get_wsgi_application()
