import sys

from app.cli import main

# Guarded: a process the app spawns (the chat's SQL sandbox) imports this module again.
if __name__ == "__main__":
    sys.exit(main())
