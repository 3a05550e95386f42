"""Compile the project's and our apps' locale/*.po into .mo without needing GNU gettext."""

from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile .po translation files to .mo (pure Python; no msgfmt needed)."

    def handle(self, *args, **options):
        compiled = 0
        app_locale_dirs = [Path(app.path) / "locale" for app in apps.get_app_configs()]
        project_dirs = [Path(path) for path in settings.LOCALE_PATHS]
        for locale_dir in project_dirs + [path for path in app_locale_dirs if path.parent.parent == settings.BASE_DIR]:
            for po_path in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(f"Compiled {compiled} translation file(s).")
