from brankas.core import startup

startup.own_process()  # `python -m brankas`: this process is the command's own
from brankas.cli import main  # noqa: E402

try:
    main()
except SystemExit as exc:
    startup.leave(exc.code)  # returns unless the command finished cleanly (core/startup.py)
    raise
