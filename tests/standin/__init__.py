"""Local forge stand-ins for tests and for trying the fix loop by hand.

GitHub (`GitHubStandIn`), GitLab (`GitLabStandIn`) and Forgejo/Gitea (`ForgejoStandIn`),
each backed by a real git repository and checked against the forge's own API
description. ``python -m tests.standin --forge KIND --git-dir PATH --repo PROJECT
--port N`` serves one; in tests, they run in a thread of the test process. See `serving`
for what they share and each module for what it answers.
"""

from .forgejo_server import ForgejoStandIn
from .gitlab_server import GitLabStandIn
from .server import GitHubStandIn
from .serving import ApiError, Fault, HostedRepo, Record

__all__ = [
    "ApiError",
    "Fault",
    "ForgejoStandIn",
    "GitHubStandIn",
    "GitLabStandIn",
    "HostedRepo",
    "Record",
]
