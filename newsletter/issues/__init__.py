"""Issues: the document, its blocks, the lifecycle, and the history of every save.

Importing the package turns on version history (history.py), so no code that saves an issue can
leave it out.
"""

from newsletter.issues import history as _history  # noqa: F401
