"""The one exception type the entry points turn into a clean, user-facing failure message."""


class JobError(Exception):
    """An expected failure (bad input, bad configuration): its message is the whole story.

    Entry points report it without a traceback; anything else is a bug and keeps its traceback.
    """
