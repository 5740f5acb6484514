import os
import sys

from .cli import main

try:
    sys.exit(main())
except BrokenPipeError:  # e.g. piped into `head`
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)
