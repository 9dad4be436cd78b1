"""What gunicorn serves: `gunicorn app.wsgi:server`."""

from app.factory import create_app

application = create_app()
server = application.server
