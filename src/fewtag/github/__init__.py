"""GitHub: a careful REST client, resumable fetch into the store, label write-back.

Import the pieces from their modules (``fewtag.github.client``, ``.sync``,
``.apply``); this package imports nothing heavy.
"""
