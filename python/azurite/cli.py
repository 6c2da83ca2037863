"""The ``azurite`` command: ``azurite run`` serves a database over Chroma's HTTP API v2;
``azurite repair`` repairs a damaged database directory; ``azurite backup`` and
``azurite restore`` copy one consistently (``backup_cli.py``); ``azurite export`` and
``azurite import`` move collections to and from files (``azurite.io.commands``);
``azurite import-chroma`` imports a chromadb directory (``io/chroma/command.py``).

Every option of ``run`` can also come from an environment variable (``AZURITE_<OPTION>``);
a flag given on the command line wins over the variable.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Sequence

from azurite import __azurite_version__, __version__, backup_cli
from azurite.io import commands as io_commands
from azurite.io.chroma.command import add_import_chroma_parser, import_chroma_command
from azurite.server.config import DEFAULT_MAX_BODY_SIZE, ServerConfig

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
_TRUE = {"1", "true", "yes", "on"}


def _env(name: str, default: str) -> str:
    return os.environ.get(f"AZURITE_{name}", default)


def _run_parser(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subcommands.add_parser(
        "run",
        help="serve a database over Chroma's HTTP API v2",
        description="Serve the database in --path over Chroma's HTTP API v2 until "
        "interrupted (SIGINT or SIGTERM). Each option defaults to its AZURITE_* variable.",
    )
    run.add_argument(
        "--path",
        default=_env("PATH", "./azurite-data"),
        help="database directory (created if missing) [AZURITE_PATH, default ./azurite-data]",
    )
    run.add_argument(
        "--host",
        default=_env("HOST", "localhost"),
        help="address to listen on [AZURITE_HOST, default localhost]",
    )
    run.add_argument(
        "--port",
        type=int,
        default=int(_env("PORT", "8000")),
        help="port to listen on [AZURITE_PORT, default 8000]",
    )
    run.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=_env("LOG_LEVEL", "info"),
        help="server log level [AZURITE_LOG_LEVEL, default info]",
    )
    run.add_argument(
        "--cors-allow-origins",
        default=_env("CORS_ALLOW_ORIGINS", ""),
        help="comma-separated origins allowed by CORS, or * for any "
        "[AZURITE_CORS_ALLOW_ORIGINS, default: no CORS]",
    )
    run.add_argument(
        "--auth-token",
        default=os.environ.get("AZURITE_AUTH_TOKEN"),
        help="require this token (Authorization: Bearer or X-Chroma-Token) "
        "[AZURITE_AUTH_TOKEN, default: no authentication]",
    )
    run.add_argument(
        "--max-body-size",
        type=int,
        default=int(_env("MAX_BODY_SIZE", str(DEFAULT_MAX_BODY_SIZE))),
        help="largest request body in bytes [AZURITE_MAX_BODY_SIZE, default 41943040]",
    )
    run.add_argument(
        "--allow-reset",
        action="store_true",
        default=_env("ALLOW_RESET", "").strip().lower() in _TRUE,
        help="let clients delete everything with reset() [AZURITE_ALLOW_RESET]",
    )


def _repair_parser(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    repair = subcommands.add_parser(
        "repair",
        help="repair a damaged database directory",
        description="Repair the database in --path after a crash or damaged files: remove "
        "leftovers of interrupted snapshot writes, check the record store (SQLite "
        "integrity_check) and copy out a damaged one, apply the readable part of the "
        "write-ahead log and discard what follows damage in it (reporting each lost write), "
        "then load every collection from the store and write its segment snapshot anew. "
        "No other process may have the directory open. "
        "Exit status 0 when the database opens afterwards, 1 when it could not be repaired.",
    )
    repair.add_argument("--path", required=True, help="database directory")


def repair(path: str) -> int:
    """Runs ``azurite repair`` and prints its report; returns the exit status."""
    from azurite import _core
    from azurite.errors import ChromaError

    # The engine's warnings during the repair (e.g. an index rebuilt) are part of the report.
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    print(f"Repairing {os.path.abspath(path)}", flush=True)
    try:
        actions, lost = _core.repair(path)
    except ChromaError as error:
        print(f"Could not repair {path}: {error}", file=sys.stderr)
        return 1
    for action in actions:
        print(f"- {action}")
    if lost:
        print("Repaired, with losses:")
        for loss in lost:
            print(f"- lost: {loss}")
    else:
        print("Repaired: nothing was lost.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azurite",
        description="Azurite: an embedded vector database, API-compatible "
        "with Chroma. `azurite run` serves a database to Chroma's clients.",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _run_parser(subcommands)
    _repair_parser(subcommands)
    backup_cli.add_parsers(subcommands)
    io_commands.add_parsers(subcommands)
    add_import_chroma_parser(subcommands)
    subcommands.add_parser("version", help="print Azurite's version")
    return parser


def _config(arguments: argparse.Namespace) -> ServerConfig:
    origins = tuple(o.strip() for o in arguments.cors_allow_origins.split(",") if o.strip())
    return ServerConfig(
        path=arguments.path,
        host=arguments.host,
        port=arguments.port,
        log_level=arguments.log_level,
        cors_allow_origins=origins,
        auth_token=arguments.auth_token or None,
        max_body_size=arguments.max_body_size,
        allow_reset=arguments.allow_reset,
    )


def _check_address(host: str, port: int) -> None:
    """Fails early with a clear message when the address is taken (as `chroma run` does)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError:
        raise SystemExit(f"Address {host}:{port} is not available") from None


def serve(config: ServerConfig) -> None:
    """Runs the server in the foreground until SIGINT or SIGTERM."""
    import uvicorn

    from azurite import _core
    from azurite.errors import ChromaError
    from azurite.server import create_app
    from azurite.server.discovery import advertised, local_url

    _check_address(config.host, config.port)
    try:
        # Opened before serving, so that a locked or unreadable directory is one clear
        # line, not a failed ASGI start-up.
        database = _core.Database(config.path)
    except ChromaError as error:
        raise SystemExit(f"Cannot open {config.path}: {error}") from None
    print(f"Azurite {__azurite_version__} (chromadb {__version__} API)")
    print(f"Saving data to: {os.path.abspath(config.path)}")
    print(f"Connect to Azurite at: http://{config.host}:{config.port}", flush=True)
    # Recorded beside the lock, so that `azurite backup --path` of this directory asks
    # this server for the copy.
    with advertised(config.path, local_url(config.host, config.port)):
        uvicorn.run(
            create_app(config, database),
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            # Clients keep connections open for 40 s between requests; so does the server.
            timeout_keep_alive=40,
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "run":
        serve(_config(arguments))
    elif arguments.command == "repair":
        sys.exit(repair(arguments.path))
    elif arguments.command in ("backup", "restore"):
        sys.exit(backup_cli.run(arguments))
    elif arguments.command in ("export", "import"):
        sys.exit(io_commands.run(arguments))
    elif arguments.command == "import-chroma":
        sys.exit(import_chroma_command(arguments))
    elif arguments.command == "version":
        print(__azurite_version__)
    else:
        parser.print_help()
        sys.exit(2)


if __name__ == "__main__":
    main()
