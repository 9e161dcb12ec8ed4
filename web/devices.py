"""The device cookie of a browser that logged in to an account (review a21, OWASP "device
cookies"): :func:`repository.accounts.device_token` signs it, the account service checks it at
the next login (:meth:`repository.accounts.AccountService.authenticate`). One cookie per account
(``kho_device_<name>``), so a shared computer trusts each person's logins separately."""

from __future__ import annotations

from flask import Response, current_app, request

from repository.accounts import DEVICE_COOKIE, DEVICE_TOKEN_DAYS, Account, AccountService, device_token


def _cookie_name(username: str) -> str:
    return DEVICE_COOKIE + username


def presented(username: str) -> tuple[str, ...]:
    """Every device token this browser sent for ``username`` (none: ``()``): never None, so the
    login is one from a browser, counted as untrusted without a valid token. All of them, not the
    first: a cookie of the same name planted for Kho's host (another subdomain, a longer path)
    is sent first and would shadow the owner's (:func:`repository.accounts.device_trusted`)."""
    return tuple(request.cookies.getlist(_cookie_name(username)))


def remember(answer: Response, accounts: AccountService, account: Account) -> Response:
    """Give the browser a fresh device token of ``account`` (after a login or a password change)."""
    token = device_token(account, accounts.clock())
    if token is not None:
        answer.set_cookie(
            _cookie_name(account.username),
            token,
            max_age=DEVICE_TOKEN_DAYS * 86400,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Strict",
        )
    return answer
