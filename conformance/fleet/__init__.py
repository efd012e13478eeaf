"""``conformance fleet FLEET.yaml``: many targets × axes (API versions, profiles, auth styles,
...) as cells, each cell one ``conformance run`` in its own subprocess, spread over a Dask
cluster (a ``LocalCluster`` by default), and one merged matrix.

* :mod:`.spec` reads and validates the fleet file (``schemas/data/fleet.schema.json``) and
  expands it into cells; it needs neither Dask nor rich.
* :mod:`._task` is what a Dask worker runs for a cell: it reads the API key from the named
  environment variable itself, runs the cell in a subprocess under a time bound and returns the
  redacted report files; :mod:`._cell` is that subprocess's entry point.
* :mod:`.runner` is the client: the cluster, submission, one retry of a cell whose worker died,
  ``--resume``, progress; :mod:`.report` writes the merged matrix and the per-cell gate table.

Dask and rich come with the ``[fleet]`` extra, imported only when a fleet runs (never by :mod:`.spec`).
"""
