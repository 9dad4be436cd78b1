"""gunicorn's own settings from the environment (the app's are read by app/config.py).

Used as `gunicorn -c python:app.gunicorn_conf app.wsgi:server` (see Procfile).
"""

import os

from app.config import Config
from app.logs import logging_config

bind = f"0.0.0.0:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# JSON lines on stderr for gunicorn's messages too; app/logs.py writes one line per request.
accesslog = None
logconfig_dict = logging_config(Config.from_env().log_level)
control_socket_disable = True


def on_starting(server):
    """Create the demo data once, in the master, before workers open the database."""
    from app.demo_loader import ensure_data

    ensure_data(Config.from_env())


def post_worker_init(worker):
    """The experiments' statistics (scipy, ~0.4 s to import) load in the background: the worker
    serves at once, and the first experiment view does not wait for them."""
    import importlib
    import threading

    def load_statistics():
        for module in ("scipy.stats", "scipy.integrate", "scipy.optimize", "scipy.special"):
            importlib.import_module(module)

    threading.Thread(target=load_statistics, name="load-statistics", daemon=True).start()


def when_ready(server):
    """Warm the shared cache once, in a separate process, while the workers start serving."""
    from app.warm import start_warm_process

    start_warm_process(Config.from_env())
