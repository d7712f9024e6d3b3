#!/usr/bin/env python
"""Django's command-line utility, with one line instead of a traceback for a
configuration that cannot run the command (mentoring_site.startup)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring_site.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from mentoring_site import startup

    try:
        refusal = startup.refusal(sys.argv)
    except ImproperlyConfigured as error:  # a malformed variable, named by the settings
        refusal = f"manage.py: {error}"
    if refusal:
        print(refusal, file=sys.stderr)
        sys.exit(startup.EXIT_STATUS)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
