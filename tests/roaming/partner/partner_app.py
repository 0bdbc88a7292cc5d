"""An OCPI 2.2.1 eMSP served by the independent extrawest-ocpi library (`py_ocpi`), for tests.

It runs in its own virtual environment (`make partner-venv`: the library pins pydantic 1 and an
old FastAPI, which our platform cannot share) and is started by
tests/roaming/test_independent_partner.py as `uvicorn partner_app:app`.

The library serves every OCPI endpoint: versions, version details, credentials and the eMSP
interfaces (locations, sessions, CDRs and tariffs received, tokens offered, command results
received), validating each request with its own pydantic models. What the library leaves to
its user is written here: the store behind its `Crud` interface (in memory), the tokens its
`Authenticator` accepts, and a few `/partner/` endpoints through which the test drives the
partner and reads what it received. The library has no client side for registering with a CPO,
pulling a CPO's lists or sending commands; those calls are made here with the library's HTTP
client (httpx) and checked with the library's models.

Configured from the environment (read by the library's settings at import): OCPI_HOST
(host:port), PROTOCOL, COUNTRY_CODE, PARTY_ID, ENVIRONMENT; and PARTNER_ADMIN_TOKEN, the
token the test's calls to `/partner/` carry. How it writes CiStrings is chosen per test
(/partner/reset).
"""

import os
import secrets
import uuid

import httpx
from fastapi import Depends, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from py_ocpi.core.adapter import BaseAdapter
from py_ocpi.core.authentication.authenticator import Authenticator
from py_ocpi.core.config import settings
from py_ocpi.core.crud import Crud
from py_ocpi.core.enums import Action, ModuleID, RoleEnum
from py_ocpi.core.schemas import OCPIResponse
from py_ocpi.core.utils import encode_string_base64
from py_ocpi.main import get_application
from py_ocpi.modules.cdrs.v_2_2_1.schemas import Cdr
from py_ocpi.modules.commands.v_2_2_1.enums import CommandType
from py_ocpi.modules.commands.v_2_2_1.schemas import (
    CommandResponse,
    StartSession,
    StopSession,
)
from py_ocpi.modules.credentials.v_2_2_1.schemas import Credentials
from py_ocpi.modules.locations.v_2_2_1.schemas import Location
from py_ocpi.modules.sessions.v_2_2_1.schemas import Session
from py_ocpi.modules.tariffs.v_2_2_1.schemas import Tariff
from py_ocpi.modules.tokens.v_2_2_1.schemas import AuthorizationInfo, Token
from py_ocpi.modules.versions.enums import VersionNumber
from py_ocpi.modules.versions.schemas import Version
from py_ocpi.modules.versions.v_2_2_1.schemas import VersionDetail
from pydantic import ValidationError

V221 = VersionNumber.v_2_2_1
ADMIN_TOKEN = os.environ["PARTNER_ADMIN_TOKEN"]
BASE_URL = f"{settings.PROTOCOL}://{settings.OCPI_HOST}"
VERSIONS_URL = f"{BASE_URL}/{settings.OCPI_PREFIX}/versions"
# The models a CPO's lists are read with, one per module the eMSP pulls.
MODELS = {
    "locations": Location,
    "sessions": Session,
    "cdrs": Cdr,
    "tariffs": Tariff,
    "tokens": Token,
}


class Store:
    """Everything the partner holds and received, in memory; emptied by /partner/reset."""

    def __init__(self):
        self.token_a: set[str] = set()
        # A registered CPO, by the token it calls us with: the token we call it with, its
        # versions URL, roles and endpoints.
        self.clients: dict[str, dict] = {}
        # Objects a CPO pushed, by (country code, party id, id); CDRs by id.
        self.locations: dict[tuple, dict] = {}
        self.sessions: dict[tuple, dict] = {}
        self.tariffs: dict[tuple, dict] = {}
        self.cdrs: dict[str, dict] = {}
        # Every version of a session as it arrived, to see it was pushed while charging.
        self.session_updates: list[dict] = []
        # Our drivers' tokens, by uid.
        self.tokens: dict[str, dict] = {}
        # Commands we sent, by the uid of their response URL; the result lands in them.
        self.commands: dict[str, dict] = {}
        # Requests the library refused as invalid: where, and why.
        self.rejected: list[dict] = []

    def issue_token_a(self) -> str:
        token = secrets.token_urlsafe(24)
        self.token_a.add(token)
        return token

    def client(self) -> dict:
        """The CPO registered last (one per test)."""
        if not self.clients:
            raise HTTPException(409, "No CPO is registered.")
        return list(self.clients.values())[-1]

    def dump(self) -> dict:
        def by_id(objects):
            return {"/".join(key): value for key, value in objects.items()}

        return {
            "clients": list(self.clients.values()),
            "locations": by_id(self.locations),
            "sessions": by_id(self.sessions),
            "session_updates": self.session_updates,
            "tariffs": by_id(self.tariffs),
            "cdrs": self.cdrs,
            "tokens": self.tokens,
            "commands": self.commands,
            "rejected": self.rejected,
        }


store = Store()


def our_credentials(token: str) -> dict:
    """Our Credentials object, with the token a CPO calls us with."""
    return {
        "token": token,
        "url": VERSIONS_URL,
        "roles": [
            {
                "role": RoleEnum.emsp,
                "business_details": {"name": "Independent eMSP (extrawest-ocpi)"},
                "party_id": settings.PARTY_ID,
                "country_code": settings.COUNTRY_CODE,
            }
        ],
    }


def client_record(token_in: str, credentials: dict, endpoints: list) -> dict:
    return {
        "token_in": token_in,
        "token_out": credentials["token"],
        "url": credentials["url"],
        "roles": credentials["roles"],
        "endpoints": endpoints,
    }


class PartnerAuthenticator(Authenticator):
    """Token A while registering; afterwards the tokens given to registered CPOs."""

    @classmethod
    async def get_valid_token_a(cls) -> list[str]:
        return list(store.token_a)

    @classmethod
    async def get_valid_token_c(cls) -> list[str]:
        # The admin token is accepted too: the library's push endpoint checks it here.
        return [*store.clients, ADMIN_TOKEN]


class MemoryCrud(Crud):
    """The library's storage interface, kept in `store` (eMSP role)."""

    @classmethod
    async def get(cls, module, role, id, *args, **kwargs):
        if module == ModuleID.credentials_and_registration:
            return our_credentials(id) if id in store.clients else None
        if module == ModuleID.cdrs:
            return store.cdrs.get(id)
        if module == ModuleID.tokens:
            return store.tokens.get(id.upper())
        objects = cls._objects(module)
        return objects.get((kwargs.get("country_code"), kwargs.get("party_id"), id))

    @classmethod
    async def list(cls, module, role, filters, *args, **kwargs):
        items = list(store.tokens.values()) if module == ModuleID.tokens else []
        offset, limit = filters["offset"], filters["limit"]
        page = items[offset : offset + limit]
        return page, len(items), offset + limit >= len(items)

    @classmethod
    async def create(cls, module, role, data, *args, **kwargs):
        if module == ModuleID.credentials_and_registration:
            token_a = kwargs.get("auth_token")
            store.token_a.discard(token_a)
            token_c = secrets.token_urlsafe(24)
            store.clients[token_c] = client_record(
                token_c, data["credentials"], data["endpoints"]["endpoints"]
            )
            return our_credentials(token_c)
        return cls._keep(module, data, kwargs)

    @classmethod
    async def update(cls, module, role, data, id, *args, **kwargs):
        if module == ModuleID.credentials_and_registration:
            old = store.clients.pop(kwargs.get("auth_token"))
            token_c = secrets.token_urlsafe(24)
            store.clients[token_c] = {
                **old,
                **client_record(token_c, data["credentials"], data["endpoints"]["endpoints"]),
            }
            return our_credentials(token_c)
        if module == ModuleID.commands:
            command = store.commands.setdefault(id, {"uid": id})
            command["result"] = jsonable(data)
            return data
        return cls._keep(module, data, kwargs)

    @classmethod
    async def delete(cls, module, role, id, *args, **kwargs):
        if module == ModuleID.credentials_and_registration:
            store.clients.pop(id, None)
        elif module == ModuleID.tariffs:
            store.tariffs.pop((kwargs.get("country_code"), kwargs.get("party_id"), id), None)

    @classmethod
    async def do(cls, module, role, action, *args, data=None, **kwargs):
        if action == Action.authorize_token:
            token = store.tokens.get(data["token_uid"].upper())
            if token is None:
                return None
            allowed = "ALLOWED" if token["valid"] else "BLOCKED"
            answer = {"allowed": allowed, "token": token}
            if data.get("location_reference"):
                answer["location"] = data["location_reference"]
            return AuthorizationInfo(**answer).dict()
        return None

    @staticmethod
    def _objects(module) -> dict:
        return {
            ModuleID.locations: store.locations,
            ModuleID.sessions: store.sessions,
            ModuleID.tariffs: store.tariffs,
        }[module]

    @classmethod
    def _keep(cls, module, data, kwargs):
        data = jsonable(data)
        if module == ModuleID.cdrs:
            store.cdrs[data["id"]] = data
            return data
        key = (kwargs.get("country_code"), kwargs.get("party_id"), data["id"])
        cls._objects(module)[key] = data
        if module == ModuleID.sessions:
            store.session_updates.append(data)
        return data


def jsonable(value):
    """A model's dict as plain JSON values (enums by value)."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if hasattr(value, "value") and isinstance(value, str):
        return value.value
    return value


app = get_application(
    version_numbers=[V221],
    roles=[RoleEnum.emsp],
    crud=MemoryCrud,
    modules=[
        ModuleID.credentials_and_registration,
        ModuleID.locations,
        ModuleID.sessions,
        ModuleID.cdrs,
        ModuleID.tariffs,
        ModuleID.tokens,
        ModuleID.commands,
    ],
    authenticator=PartnerAuthenticator,
    adapter=BaseAdapter,
    http_push=True,
)


@app.exception_handler(RequestValidationError)
async def refused(request: Request, exc: RequestValidationError):
    """The library's 422, kept so the test can show what it found wrong."""
    store.rejected.append(
        {"method": request.method, "path": request.url.path, "errors": jsonable(exc.errors())}
    )
    return JSONResponse({"detail": jsonable(exc.errors())}, status_code=422)


def admin(x_partner_admin: str = Header("")) -> None:
    if not secrets.compare_digest(x_partner_admin, ADMIN_TOKEN):
        raise HTTPException(403, "Not the test.")


@app.get("/partner/health")
async def health():
    return {"ok": True}


@app.post("/partner/reset", dependencies=[Depends(admin)])
async def reset(body: dict | None = None):
    """Forget everything; answer a fresh token A for the next CPO to register with.

    `lower_case` (default false) is the library's CI_STRING_LOWERCASE_PREFERENCE, which it
    reads on every CiString it validates: true (its own default) writes party ids, uids and
    every other CiString it sends or stores in lower case.
    """
    settings.CI_STRING_LOWERCASE_PREFERENCE = bool((body or {}).get("lower_case", False))
    store.__init__()
    return {"token_a": store.issue_token_a(), "versions_url": VERSIONS_URL}


@app.get("/partner/store", dependencies=[Depends(admin)])
async def read_store():
    return store.dump()


@app.put("/partner/tokens/{uid}", dependencies=[Depends(admin)])
async def keep_token(uid: str, token: Token):
    """One of our drivers' tokens (checked by the library's model), to push or authorize."""
    # Kept by upper-cased uid: a CiString, whichever case the library writes it in.
    store.tokens[token.uid.upper()] = jsonable(token.dict())
    return store.tokens[token.uid.upper()]


def envelope(reply: httpx.Response) -> OCPIResponse:
    """The CPO's success answer read with the library's envelope model; else the test's 502."""
    try:
        payload = reply.json()
    except ValueError:
        payload = reply.text
    if (
        reply.status_code != 200
        or not isinstance(payload, dict)
        or payload.get("status_code") != 1000
    ):
        raise HTTPException(
            502, {"url": str(reply.url), "http_status": reply.status_code, "body": payload}
        )
    return OCPIResponse(**payload)


def authorization(token: str) -> dict:
    return {"Authorization": f"Token {encode_string_base64(token)}"}


def endpoint(client: dict, module: str, role: str) -> str:
    for entry in client["endpoints"]:
        if entry["identifier"] == module and entry["role"] == role:
            return entry["url"]
    raise HTTPException(409, f"The CPO lists no {module} {role} endpoint.")


@app.post("/partner/register", dependencies=[Depends(admin)])
async def register(body: dict):
    """We start: register with a CPO that gave us its versions URL and a token A."""
    async with httpx.AsyncClient(timeout=10) as http:
        headers = authorization(body["token"])
        versions = envelope(await http.get(body["url"], headers=headers))
        offered = [Version(**entry) for entry in versions.data]
        [details_url] = [entry.url for entry in offered if entry.version == V221]
        details = envelope(await http.get(details_url, headers=headers))
        endpoints = VersionDetail(**details.data).dict()["endpoints"]
        [credentials_url] = {
            entry["url"]
            for entry in endpoints
            if entry["identifier"] == ModuleID.credentials_and_registration
        }
        token_b = secrets.token_urlsafe(24)
        # Ours before the call: the CPO calls our versions with token B while answering.
        store.clients[token_b] = {"token_in": token_b, "endpoints": jsonable(endpoints)}
        ours = Credentials(**our_credentials(token_b)).dict()
        reply = await http.post(credentials_url, headers=headers, json=jsonable(ours))
    try:
        answer = envelope(reply)
    except HTTPException:
        store.clients.pop(token_b)
        raise
    theirs = Credentials(**answer.data).dict()
    store.clients[token_b] = client_record(token_b, jsonable(theirs), jsonable(endpoints))
    return store.clients[token_b]


@app.post("/partner/pull/{module}", dependencies=[Depends(admin)])
async def pull(module: str, body: dict | None = None):
    """Read a CPO's list page by page and check each object with the library's model."""
    client = store.client()
    model = MODELS[module]
    url, params = endpoint(client, module, "SENDER"), (body or {}).get("params")
    objects, problems, pages = [], [], []
    async with httpx.AsyncClient(timeout=10) as http:
        while url:
            reply = await http.get(url, params=params, headers=authorization(client["token_out"]))
            page = envelope(reply)
            pages.append(
                {
                    "status": reply.status_code,
                    "ocpi_status": page.status_code,
                    "total": reply.headers.get("X-Total-Count"),
                    "limit": reply.headers.get("X-Limit"),
                }
            )
            for item in page.data:
                try:
                    objects.append(jsonable(model(**item).dict()))
                except ValidationError as wrong:
                    problems.append({"object": item, "errors": jsonable(wrong.errors())})
            link = reply.headers.get("Link", "")
            url = link.split(";")[0].strip().strip("<>") if 'rel="next"' in link else ""
            params = None
    return {"objects": objects, "errors": problems, "pages": pages}


@app.post("/partner/commands/{command}", dependencies=[Depends(admin)])
async def send_command(command: CommandType, body: dict):
    """Send a command to the CPO; its result comes back to the library's commands endpoint."""
    client = store.client()
    uid = uuid.uuid4().hex
    response_url = f"{BASE_URL}/{settings.OCPI_PREFIX}/emsp/{V221.value}/commands/{uid}"
    if command == CommandType.start_session:
        request = StartSession(
            response_url=response_url, token=store.tokens[body.pop("token_uid").upper()], **body
        )
    elif command == CommandType.stop_session:
        request = StopSession(response_url=response_url, **body)
    else:
        raise HTTPException(400, f"{command} is not sent by this partner.")
    url = endpoint(client, "commands", "RECEIVER").rstrip("/") + f"/{command.value}"
    payload = jsonable(request.dict(exclude_none=True))
    async with httpx.AsyncClient(timeout=30) as http:
        reply = await http.post(url, json=payload, headers=authorization(client["token_out"]))
    try:
        answer = envelope(reply)
        ocpi_status = answer.status_code
        response = jsonable(CommandResponse(**answer.data).dict())
    except HTTPException as refusal:
        # A refusal is an answer too (e.g. 2003 for an unknown location): kept as it came.
        response = refusal.detail["body"]
        ocpi_status = response.get("status_code") if isinstance(response, dict) else None
    store.commands.setdefault(uid, {"uid": uid}).update(
        command=command.value,
        request=payload,
        http_status=reply.status_code,
        ocpi_status=ocpi_status,
        response=response,
    )
    return store.commands[uid]
