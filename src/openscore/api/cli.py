"""Operators' commands for the service: serve, partners, staff keys, passwords, signing keys."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import Role
from openscore.attest import service as attest
from openscore.attest.repository import SigningKeysRepository
from openscore.attest.verify import AttestationInvalid, verify_attestation
from openscore.config import get_settings
from openscore.db.engine import make_engine, upgrade
from openscore.errors import DomainError
from openscore.partners import service as partners
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import PartnerId, Scope

partners_app = typer.Typer(help="Partners and their API keys.", no_args_is_help=True)
staff_app = typer.Typer(help="Operators' and auditors' API keys.", no_args_is_help=True)
members_app = typer.Typer(help="Members' sign-in.", no_args_is_help=True)
keys_app = typer.Typer(help="Attestation signing keys.", no_args_is_help=True)
attest_app = typer.Typer(help="Attestations.", no_args_is_help=True)

console = Console()
errors = Console(stderr=True)


def _sessions() -> sessionmaker[Session]:
    engine = make_engine(get_settings().resolved_database_url)
    upgrade(engine)
    return sessionmaker(engine)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fail(error: DomainError) -> typer.Exit:
    errors.print(f"[red]error:[/red] {error.detail}")
    for item in error.errors or []:
        errors.print(f"  {item.get('field')}: {item.get('message')}")
    return typer.Exit(1)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Run the service (FastAPI on uvicorn); OpenAPI docs at /docs."""
    import uvicorn

    from openscore.api.app import create_app, settle_for_serving

    app = create_app(get_settings())
    settle_for_serving()
    uvicorn.run(app, host=host, port=port, log_level="info")


@partners_app.command("add")
def partners_add(
    partner_id: Annotated[str, typer.Argument(help="Short id, e.g. acme-bank (lower case).")],
    name: Annotated[str, typer.Option(help="The partner's name as members see it.")],
    scopes: Annotated[
        list[Scope], typer.Option("--scopes", help="What its keys may do (repeatable).")
    ],
    threshold: Annotated[
        int, typer.Option(min=350, max=950, help="Its own cut-off for yes/no answers.")
    ] = 600,
) -> None:
    """Register a partner and print its API key (shown once; only its hash is kept)."""
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(PartnerId).validate_python(partner_id)
    except ValidationError:
        errors.print(f"[red]error:[/red] partner id {partner_id!r}: use a-z, 0-9 and '-'")
        raise typer.Exit(2) from None
    with _sessions().begin() as session:
        try:
            key_id, key = partners.add_partner(
                PartnersRepository(session),
                AccountsRepository(session),
                partner_id,
                name,
                scopes,
                threshold,
                _now(),
            )
        except DomainError as error:
            raise _fail(error) from None
    console.print(f"partner {partner_id} registered; key {key_id} (shown once, keep it safe):")
    console.print(key, soft_wrap=True, highlight=False)


@partners_app.command("list")
def partners_list() -> None:
    """List the partners."""
    with _sessions().begin() as session:
        rows = PartnersRepository(session).all()
    for row in rows:
        console.print(f"{row.partner_id}\t{row.name}\tthreshold {row.threshold}\t{row.scopes}")


@partners_app.command("new-key")
def partners_new_key(partner_id: str) -> None:
    """Issue another key for a partner (to rotate keys without downtime)."""
    with _sessions().begin() as session:
        if PartnersRepository(session).get(partner_id) is None:
            errors.print(f"[red]error:[/red] no partner {partner_id!r}")
            raise typer.Exit(1)
        key_id, key = accounts.issue_api_key(
            AccountsRepository(session), Role.partner, partner_id, _now()
        )
    console.print(f"key {key_id} for {partner_id} (shown once):")
    console.print(key, soft_wrap=True, highlight=False)


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Argument(help="Who holds the key, e.g. alice.")],
    role: Annotated[str, typer.Option(help="operator or auditor.")],
) -> None:
    """Issue an API key to an operator or an auditor (shown once)."""
    if role not in (Role.operator.value, Role.auditor.value):
        errors.print("[red]error:[/red] --role must be operator or auditor")
        raise typer.Exit(2)
    with _sessions().begin() as session:
        key_id, key = accounts.issue_api_key(AccountsRepository(session), Role(role), name, _now())
    console.print(f"{role} key {key_id} for {name} (shown once):")
    console.print(key, soft_wrap=True, highlight=False)


@staff_app.command("revoke")
def staff_revoke(key_id: str) -> None:
    """Revoke any API key (a partner's, an operator's or an auditor's) by its id."""
    with _sessions().begin() as session:
        revoked = AccountsRepository(session).revoke_key(key_id, _now())
    if not revoked:
        errors.print(f"[red]error:[/red] no live key {key_id!r}")
        raise typer.Exit(1)
    console.print(f"key {key_id} revoked")


@members_app.command("set-password")
def members_set_password(
    member_id: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a member's password (for the demo and support); prompts unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _sessions().begin() as session:
        try:
            accounts.set_member_password(AccountsRepository(session), member_id, password, _now())
        except DomainError as error:
            raise _fail(error) from None
    console.print(f"password set for {member_id}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Retire the signing key and make a new one; the old one verifies until its tokens expire."""
    settings = get_settings()
    with _sessions().begin() as session:
        kid = attest.rotate(SigningKeysRepository(session), settings.personal_data_key, _now())
    console.print(f"new signing key {kid}; retired keys stay published while their tokens live")


@keys_app.command("list")
def keys_list() -> None:
    """The published keys (the JWKS) as JSON."""
    settings = get_settings()
    with _sessions().begin() as session:
        repository = SigningKeysRepository(session)
        attest.ensure_key(repository, settings.personal_data_key, _now())
        ring = attest.KeyRing(settings.personal_data_key)
        document = ring.jwks(repository, _now()).model_dump()
    console.print_json(orjson.dumps(document).decode())


@attest_app.command("verify")
def attest_verify(
    token: Annotated[str, typer.Argument(help="The attestation (compact JWS).")],
    jwks: Annotated[Path, typer.Option(help="The JWKS document (/.well-known/jwks.json).")],
    audience: Annotated[str | None, typer.Option(help="Your partner id.")] = None,
) -> None:
    """Verify an attestation offline against a saved JWKS; prints its claims."""
    try:
        document = orjson.loads(jwks.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        errors.print(f"[red]error:[/red] {jwks}: {error}")
        raise typer.Exit(2) from None
    try:
        kid, claims = verify_attestation(token, document, audience=audience)
    except AttestationInvalid as problem:
        errors.print(f"[red]not valid:[/red] {problem}")
        raise typer.Exit(1) from None
    console.print(f"valid (key {kid})")
    console.print_json(claims.model_dump_json())
