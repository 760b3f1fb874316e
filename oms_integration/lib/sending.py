"""Sending HTTP requests to providers with ``requests`` (no database in
here). Each thread keeps one ``requests`` session per key (a database and a
source): connections are reused, and a session is never shared by threads.

The sessions (``new_session``) read the environment's proxies once per host
instead of on every request: with ``trust_env`` on, ``requests`` looks up the
proxy variables and ``.netrc`` for each request, a third of its own cost.
A proxy (``HTTPS_PROXY``, ``NO_PROXY``...) and a CA bundle
(``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) set in the environment are still
honoured; ``.netrc`` credentials are not used (a provider's credentials are
the source's).
"""

import os
import threading
import time
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies

_SESSIONS = threading.local()
# The prepared URLs a session keeps (see _prepare): a few per source.
_PREPARED_URLS = 32


def send(session, request, timeouts):
    """Send ``request`` (a dict: method, url, headers, body) once, without
    following redirects. Returns ``(response, error, duration)``: the answer
    or None, the transport error as text or None, the seconds it took.

    A session made by ``new_session`` sends through its own transport
    adapter (``session.get_adapter(url).send``, what ``Session.send`` calls),
    with the environment's proxies and CA bundle read once per host: what
    ``Session.send`` adds around it (hooks, the session's cookie jar,
    redirects) serves nothing here, and was a tenth of the cost of a
    callback. Other sessions send through ``Session.send``."""
    started = time.monotonic()
    try:
        if session.trust_env:
            prepared = requests.Request(
                request.get("method", "POST"),
                request["url"],
                headers=_merged_headers(session, request.get("headers")),
                data=request.get("body"),
            ).prepare()
            response = session.send(prepared, timeout=timeouts, allow_redirects=False)
        else:
            prepared = _prepare(session, request)
            adapter = session.get_adapter(prepared.url)
            response = adapter.send(
                prepared,
                timeout=timeouts,
                **_environment_options(session, request["url"]),
            )
            # Read the whole answer now, as Session.send does (not streamed):
            # its connection goes back to the session's pool.
            response.content  # noqa: B018  # pylint: disable=pointless-statement
    except requests.Timeout as exc:
        return None, f"Timeout: {exc}", time.monotonic() - started
    except requests.RequestException as exc:
        return None, f"Connection error: {exc}", time.monotonic() - started
    return response, None, time.monotonic() - started


def _prepare(session, request):
    """``request`` prepared as ``requests.Request(...).prepare()`` does it,
    with the URL parsed once per session: a session sends to one or two
    addresses, and parsing the URL again was a good part of preparing. No
    cookie: a status callback carries its credentials in its own headers."""
    urls = session.__dict__.setdefault("_oms_prepared_urls", {})
    url = request["url"]
    template = urls.get(url)
    if template is None:
        if len(urls) >= _PREPARED_URLS:
            urls.clear()
        template = requests.PreparedRequest()
        template.prepare_url(url, None)
        template.prepare_headers(None)
        template.prepare_auth(None, template.url)  # user:password@ in the URL
        urls[url] = template
    prepared = requests.PreparedRequest()
    prepared.url = template.url
    prepared.prepare_method(request.get("method", "POST"))
    prepared.prepare_headers(_merged_headers(session, request.get("headers")))
    if "Authorization" in template.headers:
        prepared.headers.setdefault("Authorization", template.headers["Authorization"])
    prepared.prepare_body(request.get("body"), None)
    return prepared


def _merged_headers(session, headers):
    """The session's headers (``requests``' defaults) with the request's
    over them, names compared without case, as ``Session.request`` merges
    them (a None value removes a header). The request is prepared apart from
    the session, with no cookie: a status callback carries its credentials
    in its own headers, and merging the session's cookie jar into every
    request was a good part of ``requests``' cost. Plain dicts: merging in a
    ``CaseInsensitiveDict`` was a tenth of the cost of sending."""
    headers = headers or {}
    overridden = {name.lower() for name in headers}
    merged = {
        name: value
        for name, value in session.headers.items()
        if name.lower() not in overridden
    }
    merged.update(headers)
    return {name: value for name, value in merged.items() if value is not None}


def new_session():
    """A ``requests`` session that does not read the environment on every
    request (see the module's docstring and ``_environment_options``)."""
    session = requests.Session()
    session.trust_env = False
    return session


def _environment_options(session, url):
    """The proxies and CA bundle the environment sets for ``url``, read once
    per host for a session made by ``new_session`` (none for others, which
    read the environment themselves)."""
    if session.trust_env:
        return {}
    cache = session.__dict__.setdefault("_oms_environment", {})
    parts = urlsplit(url)
    origin = (parts.scheme, parts.netloc)
    if origin not in cache:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get(
            "CURL_CA_BUNDLE"
        )
        cache[origin] = {"proxies": get_environ_proxies(url), "verify": bundle or True}
    return cache[origin]


def thread_session(key):
    """The ``requests`` session of ``key`` in the current thread."""
    sessions = _SESSIONS.__dict__.setdefault("by_key", {})
    if key not in sessions:
        sessions[key] = new_session()
    return sessions[key]
