"""What the CLI prints instead of a traceback: one line for every failure a user can cause."""

import socket

from sqlalchemy import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from sightline.problems import AppError
from sightline.settings import Settings

HINTS = {
    "InvalidCatalogNameError": "the database does not exist (create it, e.g. `createdb {db}`)",
    "InvalidPasswordError": "the password was refused",
    "InvalidAuthorizationSpecificationError": "the user was refused",
    "UndefinedTableError": "the schema is missing: run `sightline migrate`",
    "TooManyConnectionsError": "the server has too many connections open; try again shortly",
    "CannotConnectNowError": "the server is starting or shutting down; try again shortly",
}


def database_label(settings: Settings) -> str:
    if settings.database_url is None:
        return f"the embedded database in {settings.data_dir}"
    url = make_url(settings.database_url)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def causes(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, outermost first (a DBAPIError wraps the driver's)."""
    chain = [exc]
    while (nxt := chain[-1].__cause__ or getattr(chain[-1], "orig", None)) is not None \
            and nxt not in chain and len(chain) < 10:
        chain.append(nxt)
    return chain


def one_line_error(exc: BaseException, settings: Settings) -> str | None:
    """A one-line message for an expected failure; None for a bug (the traceback then shows)."""
    if isinstance(exc, AppError):
        return exc.detail
    chain = causes(exc)
    cause = chain[-1]
    name = next((type(e).__name__ for e in chain if type(e).__name__ in HINTS), type(cause).__name__)
    where = database_label(settings)
    if name in HINTS:
        database = make_url(settings.database_url).database if settings.database_url else ""
        return f"{where}: {HINTS[name].format(db=database)}"
    if isinstance(exc, (OperationalError, InterfaceError, ConnectionError, socket.gaierror,
                        TimeoutError)) or name.endswith("ConnectionError"):
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else name
        return f"cannot reach {where}: {first} (is PostgreSQL running? `make up` starts it)"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{where}: {exc.strerror or exc}"
    return None
