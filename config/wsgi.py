import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config.bodylimit import RequestBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = RequestBodyLimit(get_wsgi_application(), limit=settings.REQUEST_BODY_MAX_BYTES)
