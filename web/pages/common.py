"""What every page shares: the session's actor, CSRF, login rate limit, errors, date filters."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import jinja2
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from kho import logs
from kho.digits import ascii_int
from kho.errors import (
    AccountLocked,
    KhoError,
    LoginFailed,
    LoginRateLimited,
    PasswordChangeRequired,
    SessionExpired,
    StoreUnavailable,
    TokenInvalid,
)
from kho.timeutil import parse_iso, vn_date, vn_display
from kho.xmltext import shown_characters, shown_text
from repository.accounts import Account
from repository.policy import Action, Role
from repository.records import Actor
from repository.storage.base import ObjectInfo
from repository.workflow import ACT_LABELS
from search.labels import DIRECTION_LABELS, VERDICT_LABELS
from web.app import is_upload_route
from web.context import Kho, over_http
from web.pages.document_view import NOT_CHECKED_YET, verdict_label
from web.proxies import address_block

F = TypeVar("F", bound=Callable[..., Any])

ACTION_LABELS = {
    "content:download": "Tải bản gốc",
    "content:read": "Đọc bản gốc",
    "content:view": "Xem trang văn bản",
    "content:print": "In văn bản (có ghi người in)",
    "search:export": "Xuất kết quả tìm kiếm",
    "search:save": "Lưu câu tìm kiếm",
    "audit:export": "Xuất nhật ký",
    "stats:export": "Xuất thống kê truy cập",
    "record:create": "Tạo văn bản",
    "record:update": "Sửa dữ liệu đặc tả",
    "record:view": "Xem văn bản",
    "record:grant": "Cấp quyền truy cập",
    "ingest:signatures": "Kiểm tra chữ ký số",
    "file:create": "Lập hồ sơ",
    "file:add-document": "Thêm văn bản vào hồ sơ",
    "file:remove-document": "Bỏ văn bản ra khỏi hồ sơ",
    "handling:report-totals": "Xem số liệu giải quyết văn bản",
    "handling:report-totals:export": "Xuất số liệu giải quyết văn bản",
    "register:list": "Xem sổ đăng ký",
    "search": "Tìm kiếm",
    "account:login": "Đăng nhập",
    "account:login-failed": "Đăng nhập thất bại",
    "account:lock": "Khóa tài khoản",
    "account:roles": "Đổi vai trò",
    "unit:create": "Tạo đơn vị",
    "unit:update": "Sửa đơn vị",
    "unit:seal": "Niêm phong đơn vị (nâng cấp)",
    "unit:rollback-accept": "Chấp nhận phiên bản cũ của đơn vị (người vận hành)",
    "account:seal": "Niêm phong tài khoản (nâng cấp)",
    "account:unlock": "Mở khóa tài khoản",
    "account:password": "Đổi hoặc cấp lại mật khẩu",
    "account:password-confirm": "Xác nhận cấp lại mật khẩu",
    "account:create-confirm": "Xác nhận tài khoản mới",
    "account:create": "Tạo tài khoản",
    "account:token-issue": "Cấp mã truy cập",
    "account:token-revoke": "Thu hồi mã truy cập",
    "account:token-end-record": "Ghi mã truy cập đã thu hồi vào tài khoản (nâng cấp)",
    "account:rollback-accept": "Chấp nhận phiên bản cũ của tài khoản (người vận hành)",
    "audit:read": "Đọc nhật ký",
    "audit:verify": "Kiểm tra nhật ký",
    "audit:acknowledge": "Chấp nhận phát hiện của nhật ký",
    "plan:draft": "Lập dự thảo danh mục hồ sơ",
    "plan:approve": "Phê duyệt danh mục hồ sơ",
    "plan:issue": "Ban hành danh mục hồ sơ",
    "plan:export": "In/xuất danh mục hồ sơ",
    "retention:schedule-edit": "Sửa bảng thời hạn bảo quản",
    "retention:alert": "Cảnh báo đến hạn nộp lưu",
    "file:close": "Kết thúc hồ sơ",
    "file:reopen": "Mở lại hồ sơ",
    "file:keep": "Duyệt giữ lại hồ sơ",
    "file:handover": "Bàn giao hồ sơ",
    "submission:submit": "Nộp lưu hồ sơ",
    "submission:review": "Kiểm tra hồ sơ nộp lưu",
    "submission:accept": "Tiếp nhận hồ sơ nộp lưu",
    "submission:return": "Trả lại hồ sơ nộp lưu",
    "access:denied": "Bị từ chối truy cập",
    "record:read": "Đọc văn bản",
    "record:history": "Xem lịch sử văn bản",
    "record:distribute": "Phân phối văn bản",
    "record:return": "Trả lại văn bản",
    "record:recall": "Thu hồi văn bản",
    "record:recall-withdraw": "Bỏ đánh dấu thu hồi (lệnh đã rút lại)",
    "record:recovered": "Khôi phục văn bản",
    "record:destroy": "Hủy văn bản",
    "record:override-signature": "Vào sổ dù chữ ký số không hợp lệ",
    "record:metadata-override": "Vào sổ dù dữ liệu khác văn bản",
    "register:assign": "Cấp số vào sổ",
    "register:export": "In/xuất sổ đăng ký",
    "intake:list": "Xem văn bản chờ vào sổ",
    "ingest:scrub": "Xóa thông tin cũ của việc tiếp nhận",
    "search:delete-saved": "Xóa câu tìm kiếm đã lưu",
    "handling:work": "Xem việc của tôi",
    "handling:report": "Xem báo cáo giải quyết văn bản",
    "handling:roll-forward": "Hoàn tất bước xử lý dở dang",
    "handling:distribute-withheld": "Không phân phối văn bản đang bị phong tỏa",
    "handling:flag-deadlines": "Đánh dấu việc đến hạn, quá hạn",
    **{f"handling:{act.value}": label for act, label in ACT_LABELS.items()},
    "file:edit": "Sửa hồ sơ",
    "file:keep-approve": "Phê duyệt giữ lại hồ sơ",
    "hold:place": "Phong tỏa tài liệu",
    "hold:release": "Gỡ phong tỏa",
    "recall:place": "Lệnh thu hồi",
    "recall:notify": "Thông báo thu hồi",
    "recall:withdraw": "Rút lại lệnh thu hồi chưa thực hiện xong",
    "retention:due": "Đến hạn nộp lưu",
    "retention:transfer": "Nộp lưu vào Lưu trữ lịch sử",
    "retention:page-count": "Đếm số trang hồ sơ",
    "retention:hold": "Phong tỏa tài liệu",
    "retention:fixity": "Kiểm tra toàn vẹn tài liệu",
    "retention:disposal-list": "Xem danh sách hết thời hạn bảo quản",
    "destruction:review": "Xem xét hủy tài liệu",
    "destruction:propose": "Lập hồ sơ đề nghị hủy",
    "destruction:appraisal": "Thẩm định tài liệu hết giá trị",
    "destruction:council": "Hội đồng xác định giá trị tài liệu",
    "destruction:decide": "Quyết định hủy tài liệu",
    "destruction:approved": "Hồ sơ được phê duyệt hủy",
    "destruction:attested": "Ghi nhận bước của hội đồng xác định giá trị tài liệu",
    "destruction:keep": "Giữ lại tài liệu (không hủy)",
    "destruction:minutes": "Biên bản hủy tài liệu",
    "destruction:export": "Xuất hồ sơ hủy tài liệu",
    "destruction:execute-start": "Bắt đầu hủy tài liệu",
    "destruction:execute-resume": "Tiếp tục hủy tài liệu",
    "destruction:execute": "Hủy tài liệu",
    "destruction:done": "Đã hủy xong tài liệu",
    "content:transfer": "Chuyển bản gốc",
    "account:delete": "Xóa tài khoản",
    "account:clearance": "Đổi mức được xem tài liệu mật",
    "account:manage": "Quản lý tài khoản",
    "account:bootstrap": "Khởi tạo quản trị đầu tiên",
    "account:token-list": "Xem mã truy cập",
    "trust:add": "Thêm chứng thư gốc tin cậy",
    "trust:remove": "Gỡ chứng thư gốc tin cậy",
    "audit:checkpoint": "Ký điểm kiểm tra nhật ký",
    "audit:checkpoint-failed": "Ký điểm kiểm tra nhật ký thất bại",
    "backup:create": "Sao lưu",
    "backup:verify": "Kiểm tra bản sao lưu",
    "backup:restore": "Khôi phục từ bản sao lưu",
    "backup:shred-keys": "Hủy khóa của tài liệu đã hủy trong bản sao lưu",
    "backup:reapply-destruction": "Hủy lại tài liệu sau khôi phục",
    "fixity:check": "Kiểm tra toàn vẹn",
    "fixity:finding": "Phát hiện sai lệch toàn vẹn",
    "fixity:repair": "Sửa bản gốc hỏng từ bản sao lưu",
    "fixity:cleared": "Hết sai lệch toàn vẹn",
    "fixity:alert": "Cảnh báo toàn vẹn",
    "capacity:warning": "Cảnh báo dung lượng",
    "fsck:guard-restored": "Kiểm tra kho ghi lại khóa chống trùng",
    "fsck:claim-removed": "Kiểm tra kho gỡ khóa giữ chỗ không còn dùng",
    "fsck:acknowledge": "Chấp nhận phát hiện không sửa được của kiểm tra kho",
}


def action_label(code: str) -> str:
    """An audit action as people read it: its Vietnamese name with the code after it, never the
    bare code (an action with no name yet is still called an action in Vietnamese)."""
    label = ACTION_LABELS.get(code)
    return f"{label} ({code})" if label else f"Hành động khác ({code})"




def kho() -> Kho:
    return current_app.extensions["kho"]


def display_names() -> dict[str, str]:
    """Account username -> full name and unit id -> unit name: who did what is shown by the
    person's name (the handling pages, the nộp lưu inbox and review), the id only where no
    account or unit has it (``names.get(x, x)`` in a template)."""
    accounts = kho().accounts
    out = {a.username: a.full_name for a in accounts.accounts()}
    out.update({u.unit_id: u.name for u in accounts.units()})
    return out


# -- CSRF: a per-session secret, sent back in every POST form ------------------------------------
def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def _check_csrf() -> None:
    if request.method != "POST" or request.path.startswith("/api/"):
        return
    if is_upload_route() and current_actor() is None:
        # Reading the token parses the whole body, up to the upload limit (51 MB), for anyone
        # with a session from GET /login: ``login_required`` sends them to log in unread.
        return
    expected = session.get("csrf")
    sent = request.form.get("csrf_token", "")
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters (a 500).
    if not expected or not hmac.compare_digest(str(expected).encode(), sent.encode("utf-8", "replace")):
        abort(400, description="csrf")


# -- one-time forms: a resent form (a reload of the answer) does not repeat the act --------------
ONCE_FIELD = "once"
ONCE_SPENT = "once_spent"
ONCE_KEEP = 16
"""Tokens kept per session, issued and spent each: the pages open in other tabs keep working,
and a reload of a recent answer is recognised as such."""
ALREADY_SUBMITTED_MESSAGE = (
    "Biểu mẫu này đã được gửi và thao tác đã được thực hiện (có thể do tải lại trang). Không thực"
    " hiện lại; mật khẩu đã hiển thị không hiện lại. Tình trạng hiện tại ở bên dưới."
)
STALE_FORM_MESSAGE = (
    "Không thực hiện: biểu mẫu này đã cũ (trang mở từ lâu, hoặc đã gửi từ trước). Hãy xem tình trạng"
    " hiện tại ở bên dưới rồi làm lại trên trang này nếu vẫn cần."
)


def once_token() -> str:
    """The one-time token of the forms of this page whose act must not be repeated by a resent
    POST (a reset, a creation, a confirmation: each hands out a secret once). One per rendered
    page (every form of it shares it), kept in the session until a POST spends it
    (:func:`form_refusal`). Call it before a streamed page starts (its session cookie is sent
    first); the template's calls then return the same token."""
    if "kho_once" not in g:
        token = secrets.token_urlsafe(16)
        kept = [str(t) for t in session.get(ONCE_FIELD, [])][-(ONCE_KEEP - 1) :]
        session[ONCE_FIELD] = [*kept, token]
        g.kho_once = token
    return str(g.kho_once)


def _holds(tokens: list[str], sent: bytes) -> str | None:
    for token in tokens:
        if hmac.compare_digest(token.encode(), sent):
            return token
    return None


def form_refusal() -> str | None:
    """Why this POST of a one-time form must not act, or None (the token is then spent). A token
    the session spent (a reload of the answer, a double click sent after the answer came) gets
    :data:`ALREADY_SUBMITTED_MESSAGE`; one it does not know (a page opened before the last
    :data:`ONCE_KEEP`, an answer reloaded long after, a forged value) gets
    :data:`STALE_FORM_MESSAGE`, which does not claim that anything was done. A POST without the
    field (not one of these forms) is not counted; it is not a defence against the session's own
    holder, who could simply act again, only against repeating an act by accident. Two sendings
    that leave the browser before the first answer comes back carry the same cookie: the
    session cannot tell them apart (review r13)."""
    sent = request.form.get(ONCE_FIELD, "")
    if not sent:
        return None
    given = sent.encode("utf-8", "replace")  # compare_digest refuses a non-ASCII str (a 500)
    kept = [str(t) for t in session.get(ONCE_FIELD, [])]
    token = _holds(kept, given)
    if token is not None:
        kept.remove(token)
        session[ONCE_FIELD] = kept
        spent = [str(t) for t in session.get(ONCE_SPENT, [])][-(ONCE_KEEP - 1) :]
        session[ONCE_SPENT] = [*spent, token]
        return None
    if _holds([str(t) for t in session.get(ONCE_SPENT, [])], given) is not None:
        return ALREADY_SUBMITTED_MESSAGE
    return STALE_FORM_MESSAGE


# -- login rate limit: failures per (IP, username) and per IP in a sliding window, in the store --
LOGIN_FAILURES_PREFIX = "login-failures/"
"""``login-failures/<sha256 of address>/<sha256 of address and name>/<ms since epoch>-<random>``:
one empty object per failed attempt, and per attempt in flight (its claim, see
:class:`LoginLimiter`), so that one LIST of the address's folder counts both budgets."""

T = TypeVar("T")

ADDRESS_ATTEMPTS_FACTOR = 5
"""An address's failures over every name, in one window, as a multiple of one name's budget
(10 → 50 in 15 minutes): room for an office behind one NAT address, none for a spray."""


class LoginLimiter:
    """Failed logins per (address, name) in a sliding ``window`` (seconds): past ``attempts`` the
    next attempt is refused (:class:`LoginRateLimited`, 429) before any password is checked.

    The failures live in the store, as other state all the web processes of one Kho share: the
    gunicorn workers and containers of a deployment each counted their own before, so N workers
    gave N times the guesses, and a restart forgot them. The address and name are hashed into
    the key: nothing a person types becomes a path. :meth:`guarded` is the one sequence the
    login page, the API and the audit form use.

    An address also has a budget over every name (``per_address`` failures in the window): a
    spray of names from one address, each tried fewer times than ``attempts``, was never slowed.
    Both are counted from one LIST: a failure is kept under its address, then its name. A success
    clears its own name's failures only (one good account does not reset a spray's count).

    **Claim first, then count** (a29). An attempt first writes its own claim, one empty object
    under a key no other attempt can make (``<ms>-<random>``, :meth:`ObjectStore.put_new`: one
    PUT, no create-if-absent guard to race), then LISTs its address's folder and counts every
    claim in the window, those of attempts still in flight and its own included. Only within
    both budgets is the password checked; otherwise the claim is deleted and the attempt
    refused. A wrong password leaves its claim: it is the failure (no second write). A right
    password deletes its claim and its name's earlier ones. Before, an attempt counted, then
    checked, then recorded: N parallel wrong passwords all counted before any was recorded, and
    23-24 of 24 were checked against a budget of 4 (bench/NOTES-a29.md).

    Why it holds whatever the interleaving, across every process on the store: the stores list
    what a returned write made (read-after-write LIST: the local folder links the file before
    ``put_new`` returns; Ceph's gateway updates the bucket index before the PUT is answered,
    measured by ``bench/a29_limiter.py``), so of any ``b + 1`` attempts in one window, the one
    whose claim returned last LISTs after every claim of the others returned and sees all
    ``b + 1``: at most ``b`` pass. A claim is never inferred absent: an attempt counts its own
    whether its LIST shows it or not.

    It fails closed: under contention, attempts in flight count against each other, so some
    may be refused that one at a time would have been allowed (24 at once for a fresh name may
    all be refused), and a process killed while checking a password leaves its claim, counted
    as a failure until it leaves the window. One at a time the budgets are exact. A success
    deletes the claims of its name that its LIST found, attempts still in flight included (as
    it reset the count before): with the right password there is nothing left to guess.
    A login's cost does not grow with the logins in the window: a success leaves nothing."""

    SWEEP_KEYS = 5_000
    """Keys a sweep looks at, at most (five LIST pages); the next sweep goes on from there."""

    def __init__(
        self,
        attempts: int,
        window: float,
        store: Any,
        clock: Callable[[], float] = time.time,
        *,
        per_address: int | None = None,
    ) -> None:
        self.attempts, self.window = attempts, window
        self.per_address = per_address if per_address is not None else attempts * ADDRESS_ATTEMPTS_FACTOR
        self.store = store
        self.clock = clock
        self._swept_at = float("-inf")
        self._sweep_from: str | None = None
        self._sweep_lock = threading.Lock()

    @staticmethod
    def _prefixes(ip: str, username: str) -> tuple[str, str]:
        """The folder of the address's failures, and within it that of (address, name); an
        IPv6 address counted by its /64 (:func:`web.proxies.address_block`)."""
        ip = address_block(ip)
        address = f"{LOGIN_FAILURES_PREFIX}{hashlib.sha256(ip.encode()).hexdigest()[:32]}/"
        name = hashlib.sha256(f"{ip}\x00{username}".encode()).hexdigest()[:32]
        return address, f"{address}{name}/"

    @staticmethod
    def _when(key: str) -> float:
        try:
            return int(key.rsplit("/", 1)[1].split("-", 1)[0]) / 1000
        except (IndexError, ValueError):
            return float("inf")  # not a key this class wrote: counted, never in the past

    def guarded(
        self,
        ip: str,
        username: str,
        attempt: Callable[[], T],
        *,
        failures: tuple[type[BaseException], ...] = (LoginFailed, AccountLocked),
        successes: tuple[type[BaseException], ...] = (),
    ) -> T:
        """``attempt()`` unless (``ip``, ``username``) is past its failures, counted with the
        attempts in flight (the class's "claim first, then count"): an exception of ``failures``
        keeps this attempt's claim as one more failure, a return or an exception of
        ``successes`` (the right password, e.g. a change still required) clears the name's
        claims; anything else (the store down, a refusal that checked nothing) drops the claim."""
        address, prefix = self._prefixes(ip, username)
        now = self.clock()
        own = f"{prefix}{int(now * 1000):015d}-{os.urandom(8).hex()}"
        claim = self.store.put_new(own, b"")
        try:
            by_address = [info.key for info in self.store.list(address)]
        except BaseException:
            self._discard(claim)
            raise
        recent_by_address = {k for k in by_address if self._when(k) > now - self.window} | {own}
        keys = [k for k in by_address if k.startswith(prefix) and k != own]
        recent = {k for k in keys if self._when(k) > now - self.window} | {own}
        if len(recent) > self.attempts or len(recent_by_address) > self.per_address:
            self._discard(claim)
            raise LoginRateLimited(
                "Quá nhiều lần đăng nhập không thành công. Vui lòng thử lại sau ít phút.", username=username
            )
        try:
            result = attempt()
        except failures:
            self._delete([k for k in keys if k not in recent])  # the claim stays: the failure
            self._sweep(now)
            raise
        except successes:
            self._discard(claim)
            self._delete(keys)
            raise
        except BaseException:
            self._discard(claim)
            raise
        self._discard(claim)
        self._delete(keys)
        return result

    def _sweep(self, now: float) -> None:
        """Delete failures out of the window under every (address, name), once per window per
        process. A failure's own (address, name) cleans up only when tried again, so a spray of
        names that are never tried twice would otherwise leave its objects in the store (and in
        every backup) for ever. Each sweep looks at :attr:`SWEEP_KEYS` keys at most and the next
        goes on after them, so a large spray costs each sweep the same."""
        with self._sweep_lock:
            if now - self._swept_at < self.window:
                return
            self._swept_at = now
            start = self._sweep_from
        stale: list[str] = []
        last: str | None = None
        try:
            for count, info in enumerate(self.store.list(LOGIN_FAILURES_PREFIX, start_after=start), 1):
                last = info.key
                if self._when(info.key) <= now - self.window:
                    stale.append(info.key)
                if count >= self.SWEEP_KEYS:
                    break
            else:
                last = None  # the end reached: the next sweep starts from the beginning
        except KhoError as exc:
            logs.warn(__name__, "login failures not swept: %s", exc.code)
            return
        self._sweep_from = last
        self._delete(stale)

    def _delete(self, keys: list[str]) -> None:
        """Best effort: a failure left in place only counts until it leaves the window."""
        for key in keys:
            with contextlib.suppress(KhoError):
                self.store.delete(key)

    def _discard(self, claim: ObjectInfo) -> None:
        """This attempt's own claim (one request on S3: :meth:`ObjectStore.discard_new`); best
        effort, as :meth:`_delete`: a claim left in place counts until it leaves the window."""
        with contextlib.suppress(KhoError):
            self.store.discard_new(claim)


def limiter() -> LoginLimiter:
    return current_app.extensions["kho_login_limiter"]


def limited(
    username: str,
    attempt: Callable[[], T],
    *,
    failures: tuple[type[BaseException], ...] = (LoginFailed, AccountLocked),
    successes: tuple[type[BaseException], ...] = (),
) -> T:
    """``attempt`` under the login limiter, for the request's address and ``username``
    (:meth:`LoginLimiter.guarded`): the login page, the API's login and password change and the
    audit acknowledgement form share one budget per address and name."""
    return limiter().guarded(
        request.remote_addr or "", username, attempt, failures=failures, successes=successes
    )


# -- who is logged in ----------------------------------------------------------------------------
SESSION_ENDED = "SESSION_ENDED"
SESSION_ENDED_MESSAGE = (
    "Phiên làm việc đã kết thúc: mật khẩu vừa được đổi hoặc cấp lại, phiên đã đăng xuất ở nơi khác,"
    " hoặc tài khoản không còn được sử dụng. Vui lòng đăng nhập lại."
)
"""Why a page session whose token was revoked ended (the API answers ``TOKEN_INVALID``)."""


def _end_session(message: str, code: str) -> None:
    """End the page session and tell the person why on the login page they are sent to, with
    the stable code (as an error page shows it); :func:`login_required` sends the code as
    ``X-Kho-Error`` on its redirect. Before a16 only an idle session said anything: a lock, a
    reset, a password change elsewhere or a deletion logged the person out without a word."""
    session.clear()
    flash(f"{message} (Mã lỗi: {code})", "warning")
    g.kho_session_ended = code


def current_actor() -> Actor | None:
    if "actor" in g:
        return g.actor
    token = session.get("t")
    if not token or g.get("kho_store_down"):
        return None
    try:
        # The account its checks read is the page's (current_account): not read again (m29).
        g.actor, g.account = kho().holder_from_token(str(token), request.remote_addr, request.method)
    except StoreUnavailable:
        # The store unreachable (the S3 gateway down, the data folder unreadable) says nothing
        # about the session: it is kept, the page answers 503 with the code, and the same
        # session works again once the store is back (u10; before, it was cleared and the
        # person sent to the login page as if logged out). The error page asks again while it
        # is drawn (its menu): not logged in, without another round to the store.
        g.kho_store_down = True
        raise
    except SessionExpired as exc:
        _end_session(exc.message, exc.code)
        return None
    except TokenInvalid:
        # Revoked: a password changed or reset (elsewhere), a logout in another tab, the
        # account deleted. The token's own words are the API's ("mã truy cập").
        _end_session(SESSION_ENDED_MESSAGE, SESSION_ENDED)
        return None
    except (AccountLocked, PasswordChangeRequired) as exc:
        _end_session(exc.message, exc.code)
        return None
    except KhoError:
        session.clear()  # anything else (the store unreachable is above): log out, as before
        return None
    return g.actor


def current_account() -> Account:
    current_actor()
    return g.account


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_actor() is None:
            response = redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            ended = g.get("kho_session_ended")
            if ended:
                response.headers["X-Kho-Error"] = ended  # why, for machines (_end_session)
            return response
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def actor() -> Actor:
    who = current_actor()
    assert who is not None, "login_required"
    return who


def allowed(action: Action) -> bool:
    """Whether to offer ``action`` (a menu entry, a button): the same policy, asked without
    acting, so showing a page never writes ``access:denied`` events for what it leaves out."""
    who = current_actor()
    return who is not None and bool(kho().repo.decides_for_agency(who, action))


def has_role(role: Role) -> bool:
    who = current_actor()
    return who is not None and who.as_principal.has(role)


def safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) to go back to after login."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


def page(template: str, http_status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), http_status, mimetype="text/html")
    return response


# -- display helpers -----------------------------------------------------------------------------
def fmt_date(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return vn_date(value).strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    try:
        if "T" in text:
            return vn_date(parse_iso(text)).strftime("%d/%m/%Y")
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        return text


def fmt_time(value: Any) -> str:
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else parse_iso(str(value))
    except ValueError:
        return str(value)
    return vn_display(moment)


def typed_int(
    values: Mapping[str, str], name: str, default: int | None, *, label: str, code: str = "FIELD_INVALID",
    max_digits: int = 18,
) -> int | None:
    """The whole number a form or a query string sends as ``name``, ``default`` when it sends
    none (or an empty value). The one reader of typed numbers for the pages (u27): werkzeug's
    ``type=int`` argument is ``int()``, which reads "٣", "３", "0_3", " 3" and "+3" as 3;
    :func:`kho.digits.ascii_int` reads ASCII digits only, anything else is refused with ``code``
    (422) and a Vietnamese message naming the field by ``label``.
    ``tests/web/test_typed_ints_u27.py`` fails on any ``type=int`` left in ``web/``."""
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    number = ascii_int(raw, max_digits=max_digits)
    if number is None:
        raise KhoError(
            f"“{label}” phải là số nguyên viết bằng chữ số 0–9 (tối đa {max_digits} chữ số).",
            code=code,
            field=name,
        )
    return number


def _error_page(status: int, message: str, code: str) -> Response:
    """The Vietnamese page for a refusal: the message for people, the stable code for machines
    (shown as "Mã lỗi" and in the ``X-Kho-Error`` header, as the API gives it in its body)."""
    response = page("error.html", status, status=status, message=message, code=code)
    response.headers["X-Kho-Error"] = code
    return response


class RecordIdConverter(BaseConverter):
    """``<rid:record_id>``: 24 hex digits, anything else is a 404 before any view runs."""

    regex = "[0-9a-f]{24}"


def shown_value(value: Any) -> Any:
    """Every value a page's template prints (``{{ … }}``, the Jinja environment's ``finalize``:
    text, attributes, a form's ``value=``, a ``<textarea>``), before it is escaped: a text as
    :func:`kho.xmltext.shown_text` shows it. A trích yếu, a name or a title stored before control
    characters and bidirectional overrides were refused (``Nguyễn \u202eAn Bình`` showed
    reversed in the browser; U+0007 or U+001B were in the page as stored) shows each of them as
    U+FFFD, so an edit form shows "�" where the character is and the person can remove it.
    Markup (``|safe``, a block ``{% set %}``, a macro's output) is HTML already escaped: only
    those characters are replaced in it, one for one, and no NFC (which could join a ``>`` with
    a combining U+0338 that follows it), so no tag or entity changes. Other values (numbers,
    None, dates) as given. Pure; the stored text is not changed."""
    if isinstance(value, Markup):
        shown = shown_characters(value)
        return value if shown == value else Markup(shown)
    if isinstance(value, str):
        return shown_text(value)
    return value


def install_common(app: Flask, installation: Kho, templates: Path, static: Path) -> None:
    app.url_map.converters["rid"] = RecordIdConverter
    app.jinja_loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(templates))])
    # (read when a template is compiled: set before the first page is rendered)
    app.jinja_env.finalize = shown_value
    app.jinja_env.filters.update(vn_date=fmt_date, vn_time=fmt_time)
    app.jinja_env.globals.update(
        csrf_token=csrf_token,
        once_token=once_token,
        current_actor=current_actor,
        allowed=allowed,
        has_role=has_role,
        Action=Action,
        Role=Role,
        VERDICT_LABELS=VERDICT_LABELS,
        verdict_label=verdict_label,
        NOT_CHECKED_YET=NOT_CHECKED_YET,
        DIRECTION_LABELS=DIRECTION_LABELS,
        action_label=action_label,
        agency_name=installation.settings.agency_name,
        max_failures=installation.settings.login_max_failures,
    )
    attempts, window = app.config["KHO_LOGIN_LIMIT"]
    app.extensions["kho_login_limiter"] = LoginLimiter(attempts, window, installation.repo.store)
    app.before_request(_check_csrf)

    @app.get("/assets/<path:name>", endpoint="assets")
    def assets(name: str) -> Response:
        response = send_from_directory(static, name, max_age=3600)
        return response

    # Errors: JSON under /api (the API's own handlers), a Vietnamese page everywhere else.
    api_kho = app.error_handler_spec[None][None].get(KhoError)
    api_http = app.error_handler_spec[None][None].get(HTTPException)
    api_unexpected = app.error_handler_spec[None][None].get(Exception)

    @app.errorhandler(KhoError)
    def on_kho_error(error: KhoError) -> Any:
        if request.path.startswith("/api/") and api_kho is not None:
            return api_kho(error)
        error = over_http(installation.refusal(error, g.get("actor")))
        return _error_page(error.http_status, error.message, error.code)

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception) -> Any:
        if request.path.startswith("/api/") and api_unexpected is not None:
            return api_unexpected(error)
        current_app.logger.exception("page error on %s %s", request.method, request.path, exc_info=error)
        return _error_page(
            500, "Lỗi hệ thống; sự cố đã được ghi lại. Vui lòng thử lại sau.", "INTERNAL_ERROR"
        )

    @app.errorhandler(HTTPException)
    def on_http_error(error: HTTPException) -> Any:
        if request.path.startswith("/api/") and api_http is not None:
            return api_http(error)
        from web.app import too_large_refusal

        status = error.code or 500
        too_large_code, too_large_message = too_large_refusal(installation.repo.max_file_bytes)
        known = {  # the API's codes for the same statuses (web/app.py)
            400: ("BAD_REQUEST", "Yêu cầu không hợp lệ."),
            404: ("NOT_FOUND", "Không tìm thấy trang này."),
            405: ("METHOD_NOT_ALLOWED", "Phương thức không được hỗ trợ ở địa chỉ này."),
            413: (too_large_code, too_large_message),
            429: (
                "LOGIN_RATE_LIMITED",
                "Quá nhiều lần đăng nhập không thành công. Vui lòng thử lại sau ít phút.",
            ),
        }
        code, message = known.get(status, ("HTTP_ERROR", "Yêu cầu không xử lý được."))
        if status == 400 and error.description == "csrf":
            code = "CSRF_INVALID"
            message = (
                "Biểu mẫu đã hết hạn hoặc không hợp lệ (mã chống giả mạo). Hãy tải lại trang và gửi lại."
            )
        return _error_page(status, message, code)
