"""Measurements kept beside the product, not part of it: ``python -m benchmarks --help``.

- ``search-bench``: Whoosh beside SQLite FTS5 on the same synthetic Russian documents and queries;
- ``search-evaluate``: recall and speed of each stemming option on a judged set of Russian queries;
- ``server-times``: each page's server time for a logged-in person, made and served from the fragment cache;
- ``site-bench`` (``make bench``): the pages people open most against a bare Flask app under the same gunicorn;
- ``slow-requests``: the slowest legitimate requests' work (a 50 MB model upload, a PDF), for gunicorn's timeout.
- ``models-bench``: time and peak memory of large 3D models through an upload (``models_bench``).

They run from a checkout of the project (the package is not installed with ``catalogue``).
"""
