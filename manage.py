#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    from django.core.management import execute_from_command_line

    from audit.channel import COMMAND, entered_through
    from console.startup import StartRefused

    # Changes made by commands are audited as such; requests served by runserver still say ui/api.
    try:
        with entered_through(COMMAND):
            execute_from_command_line(sys.argv)
    except StartRefused as refusal:
        sys.exit(str(refusal))


if __name__ == "__main__":
    main()
