"""gunicorn settings from the environment.

Used as `gunicorn -c python:app.gunicorn_conf app.wsgi:server` (see Procfile).
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
accesslog = "-"
control_socket_disable = True


def on_starting(server):
    """Create the demo data once, in the master, before workers open the database."""
    from app.config import Config
    from app.demo_loader import ensure_data

    ensure_data(Config.from_env())
