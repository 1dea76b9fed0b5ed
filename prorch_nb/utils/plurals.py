"""A count and its noun, in the right number.

>>> plural(1, "run"), plural(2, "run"), plural(0, "error"), plural(1, "pass"), plural(3, "pass")
('1 run', '2 runs', '0 errors', '1 pass', '3 passes')
>>> plural(2, "earlier run"), plural(2, "child", "children")
('2 earlier runs', '2 children')
"""

from __future__ import annotations

#: Endings whose plural adds "es" (pass -> passes, box -> boxes, match -> matches).
_ES_ENDINGS = ("s", "x", "z", "ch", "sh")


def plural(count: int, noun: str, nouns: str = "") -> str:
    """``count`` and ``noun``, or its plural unless the count is one.

    The plural is ``nouns`` if given, else the regular English one of the last word.
    """
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {nouns or noun + ('es' if noun.endswith(_ES_ENDINGS) else 's')}"
