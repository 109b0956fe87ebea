"""Which forge and project a site names: from ``repo_url``, or the ``forge`` option.

`detect` reads a repository URL (``https://host/path``, ``git@host:path.git`` or
``ssh://git@host/path.git``): github.com is GitHub, gitlab.com GitLab, codeberg.org
Forgejo; any other host needs the kind named (the plugin's ``forge`` option,
``--forge``), as self-hosted GitLab, Forgejo or Gitea instances do. The API URL is the
kind's usual one on that host unless given (``forge_api_url``, ``--api-url``). Pure:
strings in, a `ForgeTarget` out.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..text_rules import is_project_path
from .target import KINDS, ForgeTarget

KNOWN_HOSTS = {"github.com": "github", "gitlab.com": "gitlab", "codeberg.org": "forgejo"}
"""Hosts whose forge is known without the ``forge`` option."""

DEFAULT_WEB_URLS = {kind: f"https://{host}" for host, kind in KNOWN_HOSTS.items()}
"""Where each kind is when nothing else says (Gitea has no public instance of its own)."""

_SCP_RE = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")


class ForgeUnknown(ValueError):
    """The URL names no forge erratum can tell; the message says what to set."""


def split_repo_url(url: str) -> tuple[str, str] | None:
    """``(web base, project path)`` of a repository URL, or None when it is not one.

    >>> split_repo_url("https://gitlab.example.com/group/sub/project.git")
    ('https://gitlab.example.com', 'group/sub/project')
    >>> split_repo_url("git@codeberg.org:owner/name.git")
    ('https://codeberg.org', 'owner/name')
    >>> split_repo_url("ssh://git@git.example:2222/o/r")
    ('https://git.example', 'o/r')
    >>> split_repo_url("https://gitlab.com/g/p/-/tree/main")
    ('https://gitlab.com', 'g/p')
    >>> split_repo_url("https://example.org/") is None
    True
    """
    url = (url or "").strip()
    scp = _SCP_RE.match(url) if "://" not in url else None
    if scp:
        base, path = f"https://{scp.group(1)}", scp.group(2)
    else:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.scheme not in ("http", "https", "ssh", "git") or not parts.hostname:
            return None
        if parts.scheme in ("http", "https"):
            netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
            base = f"{parts.scheme}://{netloc}"
        else:
            base = f"https://{parts.hostname}"
        path = parts.path
    path = path.split("/-/", 1)[0].strip("/").removesuffix(".git")
    return (base, path) if is_project_path(path) else None


def default_api_url(kind: str, web_url: str) -> str:
    """The usual REST API base of ``kind`` at ``web_url``.

    >>> default_api_url("github", "https://github.com")
    'https://api.github.com'
    >>> default_api_url("github", "https://ghe.example")
    'https://ghe.example/api/v3'
    >>> default_api_url("gitlab", "https://gitlab.com"), default_api_url("gitea", "https://g.x")
    ('https://gitlab.com/api/v4', 'https://g.x/api/v1')
    """
    if kind == "github":
        return "https://api.github.com" if web_url == "https://github.com" else f"{web_url}/api/v3"
    return f"{web_url}/api/v4" if kind == "gitlab" else f"{web_url}/api/v1"


def web_url_from_api(api_url: str) -> str:
    """The web base of a forge from its REST API base.

    >>> web_url_from_api("https://api.github.com"), web_url_from_api("https://g.x/api/v4/")
    ('https://github.com', 'https://g.x')
    >>> web_url_from_api("http://127.0.0.1:9")
    'http://127.0.0.1:9'
    """
    parts = urlsplit(api_url.strip())
    if parts.hostname == "api.github.com":
        return "https://github.com"
    path = re.sub(r"/api/v\d+$", "", parts.path.rstrip("/"))
    return f"{parts.scheme}://{parts.netloc}{path}".rstrip("/")


def target_for(
    kind: str, project: str, *, api_url: str | None = None, web_url: str | None = None
) -> ForgeTarget:
    """A `ForgeTarget` from settings that name the kind and project (the service, flags).

    Raises:
        ForgeUnknown: for an unknown kind, or a kind with no default host (Gitea) and
            neither URL given.

    >>> target_for("gitlab", "g/sub/p").api_url
    'https://gitlab.com/api/v4'
    >>> target_for("gitea", "o/r", api_url="https://git.example/api/v1").web_url
    'https://git.example'
    """
    if kind not in KINDS:
        raise ForgeUnknown(f"forge: expected one of {', '.join(KINDS)}, not {kind!r}")
    if web_url:
        web = web_url.strip().rstrip("/")
    elif api_url:
        web = web_url_from_api(api_url)
    elif kind in DEFAULT_WEB_URLS:
        web = DEFAULT_WEB_URLS[kind]
    else:
        raise ForgeUnknown(f"{kind} has no default host: give the API URL of your instance")
    return ForgeTarget(kind, web, (api_url or default_api_url(kind, web)).rstrip("/"), project)


def detect(
    repo_url: str | None, *, forge: str | None = None, api_url: str | None = None
) -> ForgeTarget:
    """The forge and project of ``repo_url``.

    Args:
        repo_url: the repository's URL (MkDocs' ``repo_url``, a git remote).
        forge: the kind, for a host erratum does not know (one of `KINDS`).
        api_url: the API base, when not the kind's usual one on that host.

    Raises:
        ForgeUnknown: when the URL is not a repository URL, or its host is unknown
            and no ``forge`` is named.

    >>> target = detect("https://github.com/mkdocs/mkdocs/")
    >>> target.kind, target.web_url, target.api_url, target.project
    ('github', 'https://github.com', 'https://api.github.com', 'mkdocs/mkdocs')
    >>> detect("https://git.example.com/g/sub/p", forge="gitlab").api_url
    'https://git.example.com/api/v4'
    >>> detect("https://codeberg.org/o/r").kind
    'forgejo'
    """
    split = split_repo_url(repo_url or "")
    if split is None:
        raise ForgeUnknown(f"{repo_url!r} is not the URL of a repository (https://host/owner/name)")
    web_url, project = split
    if forge is not None and forge not in KINDS:
        raise ForgeUnknown(f"forge: expected one of {', '.join(KINDS)}, not {forge!r}")
    kind = forge or KNOWN_HOSTS.get(urlsplit(web_url).hostname or "")
    if kind is None:
        raise ForgeUnknown(
            f"cannot tell which forge {web_url} is: set the forge option ({', '.join(KINDS)})"
        )
    if kind in ("github", "forgejo", "gitea"):
        parts = project.split("/")
        if len(parts) != 2:
            # github.com/OWNER/NAME/tree/main: the repository is the first two parts.
            project = "/".join(parts[:2])
    return ForgeTarget(
        kind, web_url, (api_url or default_api_url(kind, web_url)).rstrip("/"), project
    )


__all__ = [
    "DEFAULT_WEB_URLS",
    "KNOWN_HOSTS",
    "ForgeUnknown",
    "default_api_url",
    "detect",
    "split_repo_url",
    "target_for",
    "web_url_from_api",
]
