"""The one exception type that means "the user gave something we cannot use".

The CLI prints its message on one line and exits with code 2; the app shows it in the page.
Everything else is a bug and keeps its traceback.
"""


class EmocastError(ValueError):
    """A user error: bad input file, unreadable audio, no face, unwritable output, ...

    The message is one line saying what is wrong and what to do.
    """
