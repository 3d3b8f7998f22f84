"""Events in sent issues: when they happen, their calendar files and links, and the list of coming ones.

The event block itself is in newsletter/issues/blocks.py with the other block types; this package is
what the rest of the service does with its times. Nothing here imports the block models at module level
except listing.py, so the models can use `times` without an import circle.
"""
