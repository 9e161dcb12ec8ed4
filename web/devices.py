"""The device cookie of a browser that logged in to an account (review a21, OWASP "device
cookies"): :func:`repository.accounts.device_token` signs it, the account service checks it at
the next login (:meth:`repository.accounts.AccountService.authenticate`). One cookie per account
(``kho_device_<name>``), so a shared computer trusts each person's logins separately."""

from __future__ import annotations

from flask import Response, current_app, request

from repository.accounts import DEVICE_COOKIE, DEVICE_TOKEN_DAYS, Account, AccountService, device_token
from web.cookies import device_read_names, name


def _secure() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def presented(username: str) -> tuple[str, ...]:
    """Every device token this browser sent for ``username`` (none: ``()``): never None, so the
    login is one from a browser, counted as untrusted without a valid token. All of them, not the
    first: a cookie of the same name planted for Kho's host (another subdomain, a longer path)
    is sent first and would shadow the owner's (:func:`repository.accounts.device_trusted`).
    Under ``__Host-`` names (``KHO_COOKIE_SECURE``) the earlier unprefixed name is read too,
    for one release (:mod:`web.cookies`)."""
    names = device_read_names(DEVICE_COOKIE + username, _secure())
    return tuple(token for cookie in names for token in request.cookies.getlist(cookie))


def remember(answer: Response, accounts: AccountService, account: Account) -> Response:
    """Give the browser a fresh device token of ``account`` (after a login or a password change)."""
    token = device_token(account, accounts.clock())
    if token is not None:
        base = DEVICE_COOKIE + account.username
        current = name(base, _secure())
        answer.set_cookie(
            current,
            token,
            max_age=DEVICE_TOKEN_DAYS * 86400,
            secure=_secure(),
            httponly=True,
            samesite="Strict",
        )
        for old in device_read_names(base, _secure()):
            if old != current and old in request.cookies:
                answer.delete_cookie(old, secure=True, httponly=True, samesite="Strict")
    return answer
