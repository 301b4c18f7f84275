"""The server's start in one Python process: migrate, first user, demo data, gunicorn.

Importing Label Studio takes about 2 s. Run as separate commands, the migration step and
then every gunicorn worker imported it again (10 % of a container's first start). Here
it is imported once: migrations run, the first user and the demo data are made, every
database connection is closed, and gunicorn forks its workers from this process (its
``preload_app`` mode), so they serve at once and share the imported code's memory.
The listening socket opens only after all of that succeeded.

``serve.py prepare`` stops before gunicorn (an init container's job). Exit status 69 when
another replica's migration outlasts MIGRATE_LOCK_TIMEOUT.
"""

import os
import runpy
import sys

HOME = os.path.dirname(os.path.abspath(__file__))


def log(message: str) -> None:
    sys.stdout.write(f"entrypoint: {message}\n")
    sys.stdout.flush()


def prepare() -> int:
    """Migrations, then the optional first user and demo data, under the migration lock."""
    from label_studio_sso.container.migrate import main as migrate

    return migrate(os.environ, then=first_user_and_demo_data)


def first_user_and_demo_data() -> None:
    from label_studio_sso.container.environment import image_settings

    if os.environ.get("LABEL_STUDIO_USERNAME"):
        log(f"ensuring Label Studio user {os.environ['LABEL_STUDIO_USERNAME']} exists")
        runpy.run_path(os.path.join(HOME, "bootstrap_admin.py"))
    if image_settings(os.environ)["LSSO_DEMO_DATA"]:
        log("ensuring the demo portal's users and project exist (LSSO_DEMO_DATA=true)")
        runpy.run_path(os.path.join(HOME, "demo_data.py"))


def serve() -> None:
    """gunicorn with the image's settings, forking workers from this loaded process."""
    import label_studio
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from label_studio_sso.container.server import gunicorn_settings

    label_studio_dir = os.path.dirname(label_studio.__file__)
    sys.path.insert(0, label_studio_dir)
    from core.wsgi import application  # Label Studio's own WSGI module, as gunicorn would load it

    connections.close_all()  # no connection may be shared by the forked workers
    settings = {**gunicorn_settings(os.environ), "preload_app": True}
    os.chdir(label_studio_dir)  # where `gunicorn --chdir` would run Label Studio

    class LoadedApplication(BaseApplication):  # gunicorn's documented custom-application API
        def load_config(self) -> None:
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self) -> object:  # gunicorn loads nothing: the app is here
            return application

    log(
        f"starting gunicorn on {settings['bind'][0]} with {settings['workers']} workers "
        f"of {settings['threads']} threads"
    )
    LoadedApplication().run()


if __name__ == "__main__":
    status = prepare()
    if status or sys.argv[1:] == ["prepare"]:  # prepare: migrate and the first user, then exit
        sys.exit(status)
    serve()
