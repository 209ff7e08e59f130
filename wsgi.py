"""WSGI entry point: ``gunicorn wsgi:app``."""

from liboppi import create_app

app = create_app()
