"""The WSGI application gunicorn serves (gunicorn.conf.py); it refuses to start without
``SECRET_KEY`` outside DEBUG (mentoring_site.startup)."""

import os

from django.core.wsgi import get_wsgi_application

from mentoring_site.startup import require_secret

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring_site.settings")

require_secret()
application = get_wsgi_application()
