"""A small client for Sigma's REST API (v2): what the host asks the Sigma organization.

OAuth client credentials at ``POST {base}/v2/auth/token``; the bearer token is kept
in process memory until shortly before it expires; list endpoints follow the two
pagination schemes of Sigma's OpenAPI document (``page``/``limit`` → ``nextPage``,
``pageToken``/``pageSize`` → ``nextPageToken``); 429 and 5xx answers and network
failures are retried with backoff. Every operation called is one the document
declares, with only the query parameters it declares (``OPERATIONS``). Pure of
Django: no ORM, no settings; callers hand in the base URL, client ID and secret.

Nothing secret leaves this module: the client secret and the bearer token never
appear in a log line, an exception message or a ``repr``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypedDict, Unpack
from urllib.parse import quote, urlsplit

import httpx
from django.views.decorators.debug import sensitive_variables

from embeds.observability.redaction import REDACTED, redact_untrusted

logger = logging.getLogger(__name__)

TOKEN_PATH = "/v2/auth/token"  # noqa: S105 - a URL path, not a secret
PAGE_LIMIT = 1000  # Sigma's maximum page size
MAX_PAGES = 1000  # a loop guard: 1,000,000 rows is far beyond any organization here

# One JSON object of Sigma's answers (a member, a team, a workbook…), as parsed: its
# fields are Sigma's to fill, so each reader checks the type of what it takes.
SigmaObject = dict[str, object]
# A query string's parameters, as the client sends them.
Query = Mapping[str, str | int]


class ClientOptions(TypedDict, total=False):
    """How a client talks to Sigma, besides whom it is (``SigmaAPIClient``'s tunables)."""

    timeout: float
    max_retries: int
    backoff: float
    transport: httpx.BaseTransport | None
    sleep: Callable[[float], None]
    clock: Callable[[], float]


class _RequestOptions(TypedDict, total=False):
    """What a request carries besides its headers: a query, or a form body (the
    token request's, which holds the secret: ``_send`` hides its ``kwargs``)."""

    params: Query | None
    data: dict[str, str]


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Refresh the bearer token this long before Sigma says it expires, so a request
# never leaves with a token that dies in flight.
TOKEN_EXPIRY_MARGIN = 60.0
MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True)
class Pagination:
    """One of the two pagination schemes of Sigma's OpenAPI document."""

    size: str  # the page size parameter
    token: str  # the parameter that takes the previous answer's token
    next: str  # the answer's field holding the next token


#: Most list operations: ``limit``/``page`` → ``nextPage`` (null on the last page).
PAGE = Pagination(size="limit", token="page", next="nextPage")  # noqa: S106 - names
#: ``listAccountTypes`` and a few others: ``pageSize``/``pageToken`` → ``nextPageToken``.
TOKEN = Pagination(size="pageSize", token="pageToken", next="nextPageToken")  # noqa: S106

#: The operations the client calls, by the operationId of Sigma's OpenAPI document
#: (tests/embeds/remote/test_client_contract.py checks each against the document).
OPERATIONS = {
    "postToken": ("POST", "/v2/auth/token"),
    "whoami": ("GET", "/v2/whoami"),
    "getMember": ("GET", "/v2/members/{memberId}"),
    "listTeams": ("GET", "/v2/teams"),
    "listAccountTypes": ("GET", "/v2/accountTypes"),
    "listUserAttributes": ("GET", "/v2/user-attributes"),
    "listMembers": ("GET", "/v2/members"),
    "deleteMember": ("DELETE", "/v2/members/{memberId}"),
    "listWorkbooks": ("GET", "/v2/workbooks"),
    "listWorkbookPages": ("GET", "/v2/workbooks/{workbookId}/pages"),
    "listWorkbookPageElements": ("GET", "/v2/workbooks/{workbookId}/pages/{pageId}/elements"),
    "listGrants": ("GET", "/v2/grants"),
    "listDataModels": ("GET", "/v2/dataModels"),
    "listConnections": ("GET", "/v2/connections"),
}


def _segment(value: str) -> str:
    return quote(value, safe="")


def _objects(path: str, entries: list[object]) -> list[SigmaObject]:
    """``entries`` if each is a JSON object: what every reader of a list expects."""
    if not all(isinstance(entry, dict) for entry in entries):
        raise SigmaAPIError(f"Sigma's answer to {path} has an entry that is not an object.")
    return [entry for entry in entries if isinstance(entry, dict)]


def _skip(skip_permission_check: bool) -> dict[str, str] | None:
    return {"skipPermissionCheck": "true"} if skip_permission_check else None


class SigmaAPIError(Exception):
    """Sigma's API did not answer as expected. The message is safe to show an admin."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class SigmaAPIUnreachable(SigmaAPIError):
    """Sigma could not answer: connection refused, DNS, TLS or a timeout after every
    retry, or an answer that cannot be read (a body that does not decode)."""


class SigmaAPIAuthFailed(SigmaAPIError):
    """Sigma refused the client ID and secret (or they lack the REST API privilege)."""


class SigmaAPIRateLimited(SigmaAPIError):
    """Sigma kept answering 429 after every retry."""


def _safe_text(value: object, limit: int = 200) -> str:
    """Render untrusted text from a response for a message: repr'd and capped."""
    text = str(value)
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def validate_api_base_url(value: str) -> str:
    """Return the base URL without a trailing slash, or raise ``ValueError``.

    https only, except loopback http (the local emulator); no path beyond ``/``,
    no query, no credentials.
    """
    parts = urlsplit(value)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if (
        parts.scheme not in {"https", "http"}
        or (parts.scheme == "http" and not loopback)
        or not parts.hostname
        or parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise ValueError(
            "A Sigma API base URL is https://host (http only on loopback), e.g. "
            "https://aws-api.sigmacomputing.com."
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


@dataclass
class _Token:
    value: str
    expires_at: float  # monotonic seconds


class SigmaAPIClient:
    """Talk to one Sigma organization's API with one client ID and secret.

    ``transport``, ``sleep`` and ``clock`` are for tests (httpx.MockTransport, no
    real sleeping, a fake clock). A client is safe to share between threads.
    """

    @sensitive_variables("client_secret")
    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise SigmaAPIAuthFailed("The API credential has no client ID or secret.")
        self.base_url = validate_api_base_url(base_url)
        self.client_id = client_id
        self.__secret = client_secret
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "django-sigma-embed"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"<SigmaAPIClient {self.base_url} client_id={self.client_id}>"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SigmaAPIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- The bearer token ---------------------------------------------------------

    @sensitive_variables("data", "body")
    def _fetch_token(self) -> _Token:
        data = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.__secret,
        }
        response = self._send("POST", TOKEN_PATH, data=data, authenticated=False)
        if response.status_code in (400, 401, 403):
            raise SigmaAPIAuthFailed(
                f"Sigma refused the API credential {self.client_id} "
                f"(HTTP {response.status_code}). Check the client ID and secret, and that "
                "they carry the REST API privilege.",
                status=response.status_code,
                code=self._error_code(response),
            )
        self._raise_for_status(response)
        body = self._json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        expires_in = body.get("expires_in", 3600) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not isinstance(expires_in, int | float):
            raise SigmaAPIError("Sigma's token answer had no access_token or expires_in.")
        lifetime = max(float(expires_in) - TOKEN_EXPIRY_MARGIN, 0.0)
        logger.info("Sigma API token obtained client_id=%s", self.client_id)
        return _Token(value=token, expires_at=self._clock() + lifetime)

    def _bearer(self, *, renew: bool = False) -> str:
        with self._lock:
            if renew or self._token is None or self._clock() >= self._token.expires_at:
                self._token = self._fetch_token()
            return self._token.value

    # --- Requests -------------------------------------------------------------------

    @sensitive_variables("headers", "kwargs")
    def _send(
        self,
        method: str,
        path: str,
        *,
        authenticated: bool = True,
        **kwargs: Unpack[_RequestOptions],
    ) -> httpx.Response:
        """Send one request, retrying 429/5xx and network failures with backoff."""
        attempt = 0
        while True:
            headers: dict[str, str] = {}
            if authenticated:
                headers["Authorization"] = f"Bearer {self._bearer()}"
            try:
                response = self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise SigmaAPIUnreachable(
                        f"Sigma's API at {self.base_url} did not answer "
                        f"({type(exc).__name__}) after {attempt + 1} tries."
                    ) from None
                self._wait(attempt, None)
                attempt += 1
                continue
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                # Everything else httpx raises while sending or reading: a body whose
                # Content-Encoding does not decode (DecodingError), too many redirects.
                # Retrying would read the same answer; it is "Sigma could not answer",
                # never a traceback in the admin or a command.
                raise SigmaAPIUnreachable(
                    f"Sigma's API at {self.base_url} could not answer: its answer to "
                    f"{path} could not be read ({type(exc).__name__})."
                ) from None
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                logger.warning(
                    "Sigma API %s %s answered %s; retrying (%s of %s)",
                    method,
                    path,
                    response.status_code,
                    attempt + 1,
                    self.max_retries,
                )
                self._wait(attempt, response.headers.get("Retry-After"))
                attempt += 1
                continue
            return response

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2**attempt)
        if retry_after is not None:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass
        self._sleep(min(delay, MAX_RETRY_AFTER))

    def get(self, path: str, params: Query | None = None) -> object:
        """GET ``path`` as JSON; renews an expired bearer token once on 401."""
        response = self._send("GET", path, params=params)
        if response.status_code == 401:
            # Sigma's tokens last an hour; a 401 mid-session means it expired (or was
            # revoked): fetch a fresh one once, then give up.
            self._bearer(renew=True)
            response = self._send("GET", path, params=params)
        self._raise_for_status(response)
        return self._json(response)

    def delete(self, path: str) -> object:
        """DELETE ``path``; renews an expired bearer token once on 401."""
        response = self._send("DELETE", path)
        if response.status_code == 401:
            self._bearer(renew=True)
            response = self._send("DELETE", path)
        self._raise_for_status(response)
        return self._json(response) if response.content else None

    def paginate(
        self, path: str, params: Query | None = None, *, scheme: Pagination = PAGE
    ) -> Iterator[SigmaObject]:
        """Every entry of a list endpoint, following its pagination to the end.

        ``scheme`` is the operation's, as Sigma's document declares it: ``PAGE``
        (``limit``/``page`` → ``nextPage``, null at the end) or ``TOKEN``
        (``pageSize``/``pageToken`` → ``nextPageToken``, absent at the end). A bare
        list, the other answer form of the ``oneOf`` list operations, is the whole
        list. An entry that is not a JSON object, a repeated token, or more than
        ``MAX_PAGES`` pages stops with an error.
        """
        query = {scheme.size: PAGE_LIMIT, **(params or {})}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self.get(path, params=query)
            if isinstance(body, list):
                yield from _objects(path, body)
                return
            if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
                raise SigmaAPIError(f"Sigma's answer to {path} is not a list of entries.")
            yield from _objects(path, body["entries"])
            token = body.get(scheme.next)
            if token in (None, ""):
                return
            if not isinstance(token, str | int) or str(token) in seen:
                raise SigmaAPIError(f"Sigma's answer to {path} repeats a page.")
            seen.add(str(token))
            query = {**query, scheme.token: str(token)}
        raise SigmaAPIError(f"Sigma's answer to {path} has more than {MAX_PAGES} pages.")

    # --- What the host asks (operationIds of Sigma's OpenAPI document) --------------

    def whoami(self) -> SigmaObject:
        """``whoami``: the member who owns the API credentials (``userId``)."""
        body = self.get("/v2/whoami")
        return body if isinstance(body, dict) else {}

    def get_member(self, member_id: str) -> SigmaObject:
        """``getMember``."""
        body = self.get(f"/v2/members/{_segment(member_id)}")
        return body if isinstance(body, dict) else {}

    def list_teams(self) -> list[SigmaObject]:
        """``listTeams``."""
        return list(self.paginate("/v2/teams"))

    def list_account_types(self) -> list[SigmaObject]:
        """``listAccountTypes``: the token scheme; Sigma answers it to Admins only."""
        return list(self.paginate("/v2/accountTypes", scheme=TOKEN))

    def list_user_attributes(self) -> list[SigmaObject]:
        """``listUserAttributes``."""
        return list(self.paginate("/v2/user-attributes"))

    def find_members(self, email: str) -> list[SigmaObject]:
        """``listMembers`` filtered by ``email`` (one member, or none)."""
        return list(self.paginate("/v2/members", {"email": email}))

    def list_members(self, *, include_inactive: bool = False) -> list[SigmaObject]:
        """``listMembers``: every member of the organization but the deactivated
        (archived) ones; ``includeInactive`` adds those Sigma marks inactive."""
        return list(
            self.paginate("/v2/members", {"includeInactive": "true"} if include_inactive else None)
        )

    def deactivate_member(self, member_id: str) -> None:
        """``deleteMember`` ("Deactivate member"): Sigma archives the member."""
        self.delete(f"/v2/members/{_segment(member_id)}")

    def list_workbooks(self, *, skip_permission_check: bool = False) -> list[SigmaObject]:
        """``listWorkbooks``; ``skipPermissionCheck`` (Admins) lists every workbook."""
        return list(self.paginate("/v2/workbooks", _skip(skip_permission_check)))

    def list_workbook_pages(self, workbook_id: str, *, tag: str | None = None) -> list[SigmaObject]:
        """``listWorkbookPages`` (of the version tagged ``tag``, when given)."""
        path = f"/v2/workbooks/{_segment(workbook_id)}/pages"
        return list(self.paginate(path, {"tag": tag} if tag else None))

    def list_page_elements(
        self, workbook_id: str, page_id: str, *, tag: str | None = None
    ) -> list[SigmaObject]:
        """``listWorkbookPageElements`` (of the version tagged ``tag``, when given)."""
        path = f"/v2/workbooks/{_segment(workbook_id)}/pages/{_segment(page_id)}/elements"
        return list(self.paginate(path, {"tag": tag} if tag else None))

    def list_grants(self, inode_id: str) -> list[SigmaObject]:
        """``listGrants`` of one document (``inodeId``: a workbookId or dataModelId)."""
        return list(self.paginate("/v2/grants", {"inodeId": inode_id}))

    def list_data_models(self, *, skip_permission_check: bool = False) -> list[SigmaObject]:
        """``listDataModels``; ``skipPermissionCheck`` (Admins) lists every one."""
        return list(self.paginate("/v2/dataModels", _skip(skip_permission_check)))

    def list_connections(self) -> list[SigmaObject]:
        """``listConnections``."""
        return list(self.paginate("/v2/connections"))

    # --- Answers --------------------------------------------------------------------

    @staticmethod
    def _json(response: httpx.Response) -> object:
        try:
            return response.json()
        except (ValueError, RecursionError, httpx.HTTPError):
            raise SigmaAPIError(
                f"Sigma's API answered HTTP {response.status_code} with something that is not JSON."
            ) from None

    @staticmethod
    def _error_code(response: httpx.Response) -> str:
        try:
            body = response.json()
        except (ValueError, RecursionError, httpx.HTTPError):
            return ""
        code = body.get("code") if isinstance(body, dict) else None
        return str(code)[:100] if code else ""

    @sensitive_variables("text")
    def _scrub(self, text: str) -> str:
        """Sigma's own words, minus anything of ours it might echo back.

        An error body is shown to admins and written to command output: our secret
        and bearer token are replaced wherever they appear, and so is anything
        token-shaped.
        """
        for value in (self.__secret, self._token.value if self._token else ""):
            if value:
                text = text.replace(value, REDACTED)
        return redact_untrusted(text)

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        code = self._error_code(response)
        path = response.request.url.path
        if status == 429:
            raise SigmaAPIRateLimited(
                f"Sigma's API kept answering 429 (rate limited) for {path}; try again later.",
                status=status,
                code=code,
            )
        if status in (401, 403):
            raise SigmaAPIAuthFailed(
                f"Sigma refused {path} (HTTP {status}): the API credential "
                f"{self.client_id} lacks the access it needs.",
                status=status,
                code=code,
            )
        try:
            detail = response.json().get("message", "")
        except (ValueError, AttributeError, RecursionError, httpx.HTTPError):
            detail = ""
        suffix = f": {_safe_text(self._scrub(str(detail)))}" if detail else ""
        raise SigmaAPIError(
            f"Sigma's API answered HTTP {status} for {path}{suffix}", status=status, code=code
        )
