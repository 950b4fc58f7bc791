import os

from django.core.wsgi import get_wsgi_application

from console.startup import StartRefused, stop_wsgi_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

try:
    application = get_wsgi_application()

    from console.checks import refuse_to_start  # needs the settings configured above

    refuse_to_start()
except StartRefused as refusal:
    stop_wsgi_server(refusal)
