"""One root for every error a user can cause: :class:`CclibError`.

Each module raises its own subclass (``AudioError``, ``StoreError``, ...),
and the ``cclib`` command catches the root in one place and prints
``cclib COMMAND: WHAT: REASON`` on one line, where WHAT names the file,
folder or argument. Errors that are not a ``CclibError`` are bugs in cclib
and keep their traceback.

Like librosa's ``LibrosaError > ParameterError``, the subclasses also
derive from the built-in error they refine (``ValueError`` for bad input,
``RuntimeError`` for a missing tool), so ``except ValueError`` still works.
"""

from __future__ import annotations


class CclibError(Exception):
    """Something a user can fix: a bad file, argument, folder or missing tool.

    The message is one line that names what is wrong and why.

    Examples
    --------
    >>> str(CclibError("Bach_1.wav: empty file"))
    'Bach_1.wav: empty file'
    """
