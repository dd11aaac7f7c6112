"""The one exception type that means "the user gave something we cannot use", and the input-file check.

The CLI prints its message on one line and exits with code 2; the app shows it in the page.
Everything else is a bug and keeps its traceback.
"""

import os
from pathlib import Path


class EmocastError(ValueError):
    """A user error: bad input file, unreadable audio, no face, unwritable output, ...

    The message is one line saying what is wrong and what to do.
    """


def check_input_file(path: "str | os.PathLike | None", what: str, empty_hint: str = "") -> Path:
    """The user's input file as a Path, or EmocastError if it is missing, a folder or empty.

    Args:
        path: str or PathLike as given by the user.
        what: "image", "audio", ... (starts the message).
        empty_hint: appended to the "is empty" message, e.g. "; use a photo (jpg, png)".
    """
    if path is None or str(path) == "":
        raise EmocastError(f"no {what} file given")
    path = Path(path).expanduser()
    if not path.exists():
        raise EmocastError(f"{what} file {path} does not exist")
    if path.is_dir():
        raise EmocastError(f"{what} path {path} is a folder, not a file")
    if path.stat().st_size == 0:
        raise EmocastError(f"{what} file {path} is empty{empty_hint}")
    return path
