"""WSGI entry point: `gunicorn wsgi:app`."""

from pxflask import create_app
from pxflask.web.runtime import check_startup

app = create_app()
check_startup(app)
