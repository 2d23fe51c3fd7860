"""The one exception type that every stage raises for bad input or a failed step.

Each error carries a message key and its parameters rather than a formatted
string, so that the CLI and the studio can show it in the user's language
(see `avatar.i18n`). Developers still get an English `str()` in logs.
"""

from __future__ import annotations

from typing import Any


class AvatarError(Exception):
    """A user-facing failure: what was wrong, with which value, and what to do.

    Args:
        key: message key in `avatar.i18n.MESSAGES`.
        **params: values substituted into the message template.
    """

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, language: str | None = None) -> str:
        """Format the message in `language` ("zh" or "en"; None: the UI language)."""
        from avatar.i18n import translate

        return translate(self.key, language, **self.params)
