"""Empathy Avatar: script -> emotion plan -> voice -> animated portrait -> MP4.

This package also contains what every stage shares (the error type, the message
catalogue, timing conversion), so it must stay cheap to import: no heavy module
is imported here.
"""

__version__ = "0.1.0"
