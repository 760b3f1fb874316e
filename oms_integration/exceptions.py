"""Errors raised while processing an event, with what to do about them."""


class OmsProcessingError(Exception):
    """Processing an event failed.

    ``permanent`` errors (validation, mapping, policy) go to the dead-letter
    queue at once; the others are retried with backoff. ``hint`` tells an
    administrator, in plain words, what to do next. ``waiting`` errors are
    not failures: the event goes back to the queue, its attempt not counted
    (the source may not take orders now). ``key`` and ``values``: the hints
    catalogue's entry the texts were made from, so that each reader sees
    them in their own language.
    """

    def __init__(
        self,
        message,
        hint=None,
        permanent=True,
        retry_after=None,
        unmapped=(),
        waiting=False,
        key=None,
        values=None,
    ):
        super().__init__(message)
        self.key = key
        self.values = values or {}
        # (kind, external code, external name) of the values without mapping,
        # recorded in the Mapping Center after the failed work is rolled back.
        self.unmapped = list(unmapped)
        self.message = message
        self.hint = hint
        self.permanent = permanent
        self.retry_after = retry_after
        self.waiting = waiting
