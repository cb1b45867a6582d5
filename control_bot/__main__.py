"""``python -m control_bot --config PATH`` is ``adbot run --config PATH``."""

import sys

from control_bot.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
