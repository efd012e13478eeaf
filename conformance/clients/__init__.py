"""The real clients the ``clients.*`` checks run against the target.

* the official TypeScript SDK, ``@anthropic-ai/sdk``, driven by ``driver.cjs`` (create, stream,
  final message, error classes, both credential styles);
* Claude Code, ``@anthropic-ai/claude-code``, in print mode, locked down so that the target can
  never make it run anything (:mod:`._sandbox`).

Both are pinned by ``package.json`` and ``package-lock.json`` here and installed with ``npm ci``
into a cache directory (:mod:`._install`; ``conformance clients install``). Their traffic goes
through the harness's recording proxy (:mod:`._proxy`) and becomes the checks' evidence. Node
is an optional dependency: without it the checks are skipped with the reason.
"""

from __future__ import annotations

from conformance.clients._install import (
    ClientsUnavailable,
    Installed,
    Node,
    cache_root,
    ensure,
    find_node,
    install,
    install_dir,
    installed,
    pinned_versions,
)

__all__ = [
    "ClientsUnavailable",
    "Installed",
    "Node",
    "cache_root",
    "ensure",
    "find_node",
    "install",
    "install_dir",
    "installed",
    "pinned_versions",
]
