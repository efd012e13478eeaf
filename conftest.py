"""Root conftest: load the conformance plugin for every pytest run in this checkout.

``pytest`` (testpaths: conformance/suite) runs the conformance suites, against the bundled stub
unless ``--target URL`` is given; ``pytest tests`` runs the harness's own self-tests.
"""

pytest_plugins = ["conformance.plugin"]
