"""The mimetypes of the notebook views' bundles (``_repr_mimebundle_``), named once.

>>> SVG, HTML
('image/svg+xml', 'text/html')
"""

from __future__ import annotations

SVG = "image/svg+xml"
PNG = "image/png"
HTML = "text/html"
TEXT = "text/plain"
