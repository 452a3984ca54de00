"""recur.Error: every failure recur reports, with recur's own error code."""


class Error(ValueError):
    """A failure reported by recur: bad input, a bad file, an option it cannot honour.

    Attributes:
        code: recur's error code name (``recur::Errc``), e.g. ``"invalid_argument"``,
            ``"non_finite"``, ``"bad_magic"``, ``"truncated"``; see docs/errors.md.
        message: what went wrong, naming the file, tensor, offset or dimension at fault.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
