"""Lưu trữ pages: “Xem xét hủy”, destruction cases (council review, minutes, appraisal,
decision, execution with the password re-entered), legal holds, SIP export and check.
No rule lives here: every step calls :mod:`retention`, which asks the access policy."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.errors import KhoError
from kho.scratch import working_folder
from kho.timeutil import vn_date
from repository.policy import Action
from retention import dossier_docs
from retention.destruction import (
    DECISION_WINDOW_DAYS,
    STATE_LABELS,
    Destructions,
    deadline_of,
    is_overdue,
    is_proposer,
    review_list,
)
from retention.duplicates import scan as duplicate_scan
from retention.holds import Holds
from retention.sip import Transfers
from retention.sip_import import UPLOAD_PREFIX, verdicts_said
from web.app import takes_upload
from web.disposal_api import dossier_headers
from web.heads import file_response, file_route
from web.pages.common import actor, allowed, kho, login_required, page

bp = Blueprint("disposal", __name__, url_prefix="/retention")


def _destructions() -> Destructions:
    installation = kho()
    return Destructions(
        installation.repo, installation.accounts, installation.backend, forget=installation.forget_work
    )


def _index(errors: list[str] | None = None, status: int = 200) -> Response:
    who, repo = actor(), kho().repo
    can_list = allowed(Action.DISPOSAL_LIST)
    candidates = review_list(repo, actor=who, today=vn_date(repo.clock())) if can_list else []
    cases = _destructions().list(actor=who) if can_list else []
    today = vn_date(repo.clock())
    overdue = [c for c in cases if is_overdue(c, today)]
    duplicates = (
        [
            (copy, kept)
            for copy, kept in duplicate_scan(repo).items()
            if repo.may_see(who, repo._load(copy)) and repo.may_see(who, repo._load(kept))
        ]
        if can_list
        else []
    )
    holds = Holds(repo).list(actor=who) if can_list else []
    transfers = Transfers(repo).list(actor=who) if allowed(Action.TRANSFER) else []
    transfers_due = Transfers(repo).due(actor=who, today=today) if allowed(Action.TRANSFER) else []
    return page(
        "disposal.html",
        status,
        candidates=candidates,
        cases=cases,
        overdue=overdue,
        duplicates=duplicates,
        deadline_of=deadline_of,
        holds=holds,
        transfers=transfers,
        transfers_due=transfers_due,
        labels=STATE_LABELS,
        errors=errors or [],
        can_list=can_list,
    )


@bp.get("")
@login_required
def index() -> Response:
    return _index()


def _ids(name: str) -> list[str]:
    values = request.form.getlist(name) or request.form.get(name, "").split()
    return [v.strip() for v in values if v.strip()]


@bp.post("/destructions")
@login_required
def propose() -> Response:
    try:
        case = _destructions().propose(_ids("record_ids"), request.form.get("explanation", ""), actor=actor())
    except KhoError as exc:
        return _index([f"{exc.message} ({exc.code})"], exc.http_status)
    flash("Đã lập hồ sơ đề nghị hủy.", "info")
    return redirect(url_for("disposal.case", case_id=case["case_id"]))  # type: ignore[return-value]


def _case_page(case_id: str, errors: list[str] | None = None, status: int = 200) -> Response:
    try:
        case = _destructions().get(case_id, actor=actor())
    except KhoError as exc:
        return page("error.html", exc.http_status, message=exc.message)
    today = vn_date(kho().repo.clock())
    return page(
        "destruction.html",
        status,
        case=case,
        labels=STATE_LABELS,
        errors=errors or [],
        me=actor().user,
        proposer=is_proposer(case, actor().user),
        documents=dossier_docs.available(case),
        deadline=deadline_of(case),
        overdue=is_overdue(case, today),
        deadline_min=today,
        deadline_max=today + timedelta(days=DECISION_WINDOW_DAYS),
    )


@bp.get("/destructions/<case_id>")
@login_required
def case(case_id: str) -> Response:
    return _case_page(case_id)


def _deadline(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError as exc:
        raise KhoError(
            "Thời hạn thực hiện hủy phải là một ngày (năm-tháng-ngày).", code="DATE_INVALID"
        ) from exc


@bp.get("/destructions/<case_id>/documents/<name>")
@login_required
@file_route(dossier_headers)
def document(case_id: str, name: str) -> Response:
    fmt = request.args.get("format", "pdf")
    try:
        doc, data = _destructions().document(case_id, name, fmt, actor=actor())
    except KhoError as exc:
        return page("error.html", exc.http_status, message=f"{exc.message} ({exc.code})")
    return file_response(data, dossier_headers(None, case_id, doc.name))


@bp.post("/destructions/<case_id>/<step>")
@login_required
def step(case_id: str, step: str) -> Response:
    d, who, form = _destructions(), actor(), request.form
    try:
        if step == "council":
            d.establish_council(
                case_id, form.get("members", "").split(), form.get("decision_ref", ""), actor=who
            )
        elif step == "review":
            d.review(case_id, form.get("opinion", ""), form.get("note", ""), actor=who)
        elif step == "minutes":
            d.record_minutes(case_id, form.get("text", ""), actor=who)
        elif step == "appraisal":
            d.attach_appraisal(case_id, form.get("text", ""), actor=who)
        elif step == "decision":
            d.decide(
                case_id,
                form.get("decision_ref", ""),
                approve=form.get("approve") != "no",
                deadline=_deadline(form.get("deadline", "")),
                actor=who,
            )
        elif step == "execute":
            d.execute(case_id, form.get("password", ""), actor=who)
        else:
            return page("error.html", 404, message="Không có bước này.")
    except KhoError as exc:
        return _case_page(case_id, [f"{exc.message} ({exc.code})"], exc.http_status)
    flash("Đã ghi nhận.", "info")
    return redirect(url_for("disposal.case", case_id=case_id))  # type: ignore[return-value]


@bp.post("/holds")
@login_required
def hold() -> Response:
    try:
        Holds(kho().repo).place(
            _ids("record_ids"),
            request.form.get("reason", ""),
            actor=actor(),
            query=request.form.get("query") or None,
        )
    except KhoError as exc:
        return _index([f"{exc.message} ({exc.code})"], exc.http_status)
    flash("Đã phong tỏa.", "info")
    return redirect(url_for("disposal.index"))  # type: ignore[return-value]


@bp.post("/holds/<order_id>/release")
@login_required
def release(order_id: str) -> Response:
    try:
        Holds(kho().repo).release(order_id, request.form.get("reason", ""), actor=actor())
    except KhoError as exc:
        return _index([f"{exc.message} ({exc.code})"], exc.http_status)
    flash("Đã gỡ phong tỏa.", "info")
    return redirect(url_for("disposal.index"))  # type: ignore[return-value]


@bp.post("/transfers")
@login_required
def export() -> Response:
    try:
        receipt = Transfers(kho().repo).export(
            request.form.get("file_id", "").strip(), kho().settings.data_dir / "transfers", actor=actor()
        )
    except KhoError as exc:
        return _index([f"{exc.message} ({exc.code})"], exc.http_status)
    flash(f"Đã xuất gói tin {receipt['package']} (SHA-256 {receipt['sha256'][:16]}…).", "info")
    for left in receipt["omitted"]:  # the person exporting is told, as the package says it
        flash(f"Không có trong gói tin: {left['message']}", "warning")
    return redirect(url_for("disposal.index"))  # type: ignore[return-value]


@bp.post("/transfers/check")
@login_required
@takes_upload
def check() -> Response:
    upload = request.files.get("package")
    if upload is None or not upload.filename:
        return _index(["Hãy chọn tệp gói tin (.zip)."], 422)
    try:
        with working_folder(kho().work_root, UPLOAD_PREFIX) as tmp:
            path = tmp / "package.zip"
            upload.save(path)
            resend = request.form.get("resend") == "1"
            result = kho().import_package(path, actor=actor(), resend=resend)
    except KhoError as exc:
        return _index([f"Gói tin bị từ chối: {exc.message} ({exc.code})"], exc.http_status)
    said = verdicts_said(result["signature_verdicts"])
    again = f" Bản gửi lại, phiên bản {result['package_version']}." if result["replaces"] else ""
    flash(f"Gói tin hợp lệ: {result['object_id']} ({result['files']} tệp).{again}{said}", "info")
    return redirect(url_for("disposal.index"))  # type: ignore[return-value]
