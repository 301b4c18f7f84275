"""The server's start in one Python process: migrate, first user, demo data, gunicorn.

Importing Label Studio takes about 2 s. Run as separate commands, the migration step and
then every gunicorn worker imported it again (10 % of a container's first start). Here
it is imported once: migrations run, the first user and the demo data are made, every
database connection is closed, and gunicorn forks its workers from this process (its
``preload_app`` mode), so they serve at once and share the imported code's memory.
The listening socket opens only after all of that succeeded.

Exit status 69 when another replica's migration outlasts MIGRATE_LOCK_TIMEOUT.
"""

import os
import runpy
import sys

HOME = os.path.dirname(os.path.abspath(__file__))


def log(message: str) -> None:
    sys.stdout.write(f"entrypoint: {message}\n")
    sys.stdout.flush()


def prepare() -> int:
    """Migrations, then the optional first user and demo data; 0 when all went well."""
    from label_studio_sso.migrate import main as migrate

    status = migrate(os.environ)
    if status:
        return status
    if os.environ.get("LABEL_STUDIO_USERNAME"):
        log(f"ensuring Label Studio user {os.environ['LABEL_STUDIO_USERNAME']} exists")
        runpy.run_path(os.path.join(HOME, "bootstrap_admin.py"))
    if os.environ.get("LSSO_DEMO_DATA", "false") == "true":
        log("ensuring the demo portal's users and project exist (LSSO_DEMO_DATA=true)")
        runpy.run_path(os.path.join(HOME, "demo_data.py"))
    return 0


def serve() -> None:
    """gunicorn with the image's configuration, forking workers from this loaded process."""
    import label_studio
    from django.db import connections
    from gunicorn.app.wsgiapp import WSGIApplication

    label_studio_dir = os.path.dirname(label_studio.__file__)
    sys.path.insert(0, label_studio_dir)
    from core.wsgi import application  # Label Studio's own WSGI module, as gunicorn would load it

    connections.close_all()  # no connection may be shared by the forked workers

    class AlreadyLoaded(WSGIApplication):
        def load_wsgiapp(self) -> object:  # gunicorn loads nothing: the app is here
            return application

    address = f"{os.environ.get('LISTEN_ADDRESS', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"  # noqa: S104
    log(f"starting gunicorn on {address} with {os.environ.get('WEB_CONCURRENCY', '2')} workers")
    sys.argv = [
        "gunicorn",
        "--config", os.path.join(HOME, "gunicorn.conf.py"),
        "--preload",
        "--chdir", label_studio_dir,
        "core.wsgi:application",
    ]  # fmt: skip
    AlreadyLoaded("%(prog)s [OPTIONS] [APP_MODULE]").run()


if __name__ == "__main__":
    status = prepare()
    if status:
        sys.exit(status)
    serve()
