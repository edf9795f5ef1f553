"""Stand-ins for what gunicorn hands the config's hooks, for the tests that call them."""


class FakeLog:
    """gunicorn's logger as the hooks and gunicorn_master use it: every call recorded."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.setups: list[object] = []
        self.cfg: object = None

    def _record(self, level: str, message: str, *args: object) -> None:
        self.lines.append((level, message % args if args else message))

    def info(self, message: str, *args: object) -> None:
        self._record("info", message, *args)

    def warning(self, message: str, *args: object) -> None:
        self._record("warning", message, *args)

    def error(self, message: str, *args: object) -> None:
        self._record("error", message, *args)

    def exception(self, message: str, *args: object) -> None:
        self._record("exception", message, *args)

    def setup(self, cfg: object) -> None:
        self.setups.append(cfg)

    def levels(self, level: str) -> list[str]:
        """The messages logged at ``level``."""
        return [message for got, message in self.lines if got == level]
