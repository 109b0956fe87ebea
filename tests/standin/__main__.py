"""Serve a forge stand-in until interrupted (see ``tests/standin/__init__.py``).

``--forge github`` (the default), ``gitlab`` (the API under ``/api/v4``, the project may
be in subgroups) or ``forgejo`` (under ``/api/v1``; Gitea's API is the same).
"""

from __future__ import annotations

import argparse
import sys

from .forgejo_server import ForgejoStandIn
from .gitlab_server import GitLabStandIn
from .server import GitHubStandIn

STANDINS = {"github": GitHubStandIn, "gitlab": GitLabStandIn, "forgejo": ForgejoStandIn}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.standin",
        description="A local GitHub, GitLab or Forgejo REST stand-in backed by a real git "
        "repository.",
    )
    parser.add_argument("--forge", choices=sorted(STANDINS), default="github")
    parser.add_argument("--git-dir", required=True, help="git repository to serve")
    parser.add_argument(
        "--repo", required=True, help="OWNER/NAME it is served as (group/sub/name on GitLab)"
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN=LOGIN",
        help="accept TOKEN as LOGIN (repeatable; default maintainer-token and reader-token)",
    )
    parser.add_argument(
        "--fork-delay", type=float, default=0.0, help="seconds until a fork answers"
    )
    args = parser.parse_args(argv)
    tokens = dict(item.split("=", 1) for item in args.token) or None
    standin = STANDINS[args.forge](
        args.git_dir,
        args.repo,
        tokens=tokens,
        host=args.host,
        port=args.port,
        fork_delay=args.fork_delay,
    )
    print(standin.url, flush=True)
    logins = ", ".join(f"{t} -> {login}" for t, login in standin.tokens.items())
    print(f"tokens: {logins}; collaborators: {sorted(standin.repo.collaborators)}", file=sys.stderr)
    try:
        standin.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
