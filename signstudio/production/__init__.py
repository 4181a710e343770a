"""Sign language production: text/glosses -> a pose sequence (lexicon stitching or a learned model).

``lexicon`` stitches real recorded signs (spoken-to-signed), ``render`` writes ``.pose``, ``.mp4``
and ``.gif``, ``types`` holds what a production returns (:class:`Production`, :class:`Segment`).
"""
