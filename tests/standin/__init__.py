"""A local GitHub stand-in for tests and for trying the fix loop by hand.

``python -m tests.standin --git-dir PATH --repo OWNER/NAME --port N`` serves it; in tests,
`GitHubStandIn` runs in a thread of the test process. See `server` for what it answers.
"""

from .server import GitHubStandIn
from .serving import ApiError, Fault, HostedRepo, Record

__all__ = ["ApiError", "Fault", "GitHubStandIn", "HostedRepo", "Record"]
