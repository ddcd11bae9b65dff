"""The public objection form and its status page (issue 18, docs/objections.md): the owner of
a taken-down account objects without signing in, and follows the outcome with a receipt code.

Built like the public report form (reports.views.public_report), with its proof of work, its
per-client limit (under a scope of its own) and its upload rules, checked in the same order.
The form tells nobody which takedowns exist: a reference that names no takedown and one that
names a takedown of another account get the same answer.
"""

from __future__ import annotations

from contextlib import suppress
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.identifiers import IdentifierError, normalise_identifier
from accounts.models import Platform
from config.http import client_ip
from moderation.audit import Actor
from moderation.models import Objection, RestoreRequest, TakedownRequest
from moderation.objections.services import (
    MAX_STATEMENT,
    ObjectionInput,
    ObjectionRefused,
    objection_receive,
)
from reports.captcha import (
    RECEIPT_CHARACTERS,
    ROBOT_CHECK_UNFINISHED,
    solution_accept,
    without_solution,
)
from reports.forms import EmailField, ScreenshotsField, TextField
from reports.ratelimit import rate_limit_hit, rate_limit_reached

PUBLIC_OBJECTION_SCOPE = "public-objection"
# One budget for every receipt look-up of a client, reports' and objections' alike: a second
# page must not double what a guesser may try in an hour.
PUBLIC_STATUS_SCOPE = "public-status"

NO_SUCH_TAKEDOWN = _(
    "We found no takedown with this reference for this account on this platform. Check the "
    "reference the platform gave you, and give the account exactly as it was taken down."
)
FILES_NOT_KEPT = _(
    "Your pictures were not kept: a browser cannot keep files after an error. Choose them "
    "again before you send."
)
ALREADY_ON_FILE = _(
    "An objection to this takedown is already on file: this is its receipt code and status."
)
ALREADY_ON_FILE_ADDED = _(
    "An objection to this takedown is already on file: this is its receipt code and status. "
    "What you sent that was new has been added to it."
)


class PublicObjectionForm(forms.Form):
    platform = forms.ModelChoiceField(
        label=_("Platform"), queryset=Platform.objects.filter(active=True), empty_label=None
    )
    reference = TextField(
        label=_("Takedown reference"),
        max_length=200,
        help_text=_("The reference the platform showed you when it took your account down."),
    )
    account = TextField(
        label=_("Your account"),
        max_length=500,
        help_text=_("The phone number, user name or profile link of the account taken down."),
    )
    statement = TextField(
        label=_("Your objection"),
        max_length=MAX_STATEMENT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Why the takedown is wrong: what the account is really used for, and anything that "
            "shows it."
        ),
    )
    attachments = ScreenshotsField(
        label=_("Pictures"),
        help_text=_("Up to 5 images (JPEG, PNG or WebP), at most 5 MB each."),
    )
    contact_name = TextField(label=_("Your name"), max_length=200, required=False)
    contact_email = EmailField(label=_("Your e-mail"), max_length=254, required=False)
    contact_phone = TextField(label=_("Your phone number"), max_length=40, required=False)
    altcha = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        platform = data.get("platform")
        account = data.get("account")
        if platform is not None and account:
            try:
                data["identifier"] = normalise_identifier(
                    account, profile_url_pattern=platform.profile_url_pattern
                ).value
            except IdentifierError:
                self.add_error(
                    "account",
                    _(
                        "We cannot read an account from this. Give a phone number, a user name "
                        "or a profile link of this platform."
                    ),
                )
        return data


def takedown_named(
    *, platform: Platform, reference: str, identifier: str
) -> TakedownRequest | None:
    """The takedown an owner names: by its request id (as a platform may show it: with or
    without hyphens, in any case) or by the operator's own reference on that platform, and
    only if it took down this very account."""
    reference = reference.strip()
    named = Q(operator_reference=reference)
    with suppress(ValueError):  # not a request id: the operator's reference alone
        named |= Q(pk=UUID(reference))
    return (
        TakedownRequest.objects.filter(named, platform=platform, account__identifier=identifier)
        .order_by("-issued_at")
        .first()
    )


def _form_page(request: HttpRequest, form: PublicObjectionForm) -> HttpResponse:
    """The form again, with what was typed; pictures sent are lost, so the field says so."""
    if request.FILES.getlist("attachments"):
        form.add_error("attachments", FILES_NOT_KEPT)
    context = {"form": form, "decide_days": settings.OBJECTION_DECIDE_DAYS}
    return render(request, "objections/public_form.html", context)


def _objection_send(request: HttpRequest, form: PublicObjectionForm) -> HttpResponse | None:
    """Send a valid form's objection: the status page it lands on, or None with the form's
    error added (unknown takedown, or one not carried out)."""
    data = form.cleaned_data
    takedown = takedown_named(
        platform=data["platform"], reference=data["reference"], identifier=data["identifier"]
    )
    if takedown is None:
        form.add_error(None, NO_SUCH_TAKEDOWN)
        return None
    item = ObjectionInput(
        takedown_id=takedown.pk,
        source=Objection.Source.PUBLIC,
        statement=data["statement"],
        contact_name=data["contact_name"],
        contact_email=data["contact_email"],
        contact_phone=data["contact_phone"],
        attachments=data["attachments"],
    )
    try:
        received = objection_receive(item=item, actor=Actor.public(), ip_address=client_ip(request))
    except ObjectionRefused as refused:
        form.add_error(
            None, NO_SUCH_TAKEDOWN if refused.code == "unknown_takedown" else str(refused)
        )
        return None
    code = received.objection.receipt_code
    if received.created:
        return redirect(reverse("moderation:objection_status", args=[code]) + "?new=1")
    messages.info(request, ALREADY_ON_FILE_ADDED if received.added else ALREADY_ON_FILE)
    return redirect("moderation:objection_status", code=code)


@require_http_methods(["GET", "POST"])
def public_objection(request: HttpRequest) -> HttpResponse:
    """The public objection form: no sign-in, a proof of work and a per-client limit.

    In the report form's order of cost: the proof of work first (an unsolved POST decodes no
    picture and counts toward no limit), then the client's limit, then the form, pictures
    included. Every valid form counts, an unknown reference too: guessing references costs
    a proof of work each, and the limit."""
    if request.method != "POST":
        return _form_page(request, PublicObjectionForm())
    client = client_ip(request) or "unknown"
    limit = settings.PUBLIC_REPORT_RATE_PER_HOUR
    if not solution_accept(request.POST.get("altcha", "")):
        form = PublicObjectionForm(without_solution(request.POST))  # no picture opened
        form.add_error(None, ROBOT_CHECK_UNFINISHED)
        return _form_page(request, form)
    if rate_limit_reached(scope=PUBLIC_OBJECTION_SCOPE, ident=client, limit=limit):
        return render(request, "objections/public_limited.html", status=429)
    form = PublicObjectionForm(without_solution(request.POST), request.FILES)
    if form.is_valid():
        if not rate_limit_hit(
            scope=PUBLIC_OBJECTION_SCOPE, ident=client, limit=limit, window_seconds=3600
        ):
            return render(request, "objections/public_limited.html", status=429)
        sent = _objection_send(request, form)
        if sent is not None:
            return sent
    return _form_page(request, form)


def _restoration(objection: Objection) -> str:
    """Where a granted objection's restoration stands, in the owner's terms: requested (also
    while retried or waiting as a dead letter), restored, refused, not found, withdrawn."""
    try:
        restore = objection.restore_request
    except RestoreRequest.DoesNotExist:
        return ""
    Status = RestoreRequest.Status  # noqa: N806 - the model's own name
    words = {
        Status.RESTORED: "restored",
        Status.REFUSED: "refused",
        Status.NOT_FOUND: "not_found",
        Status.CANCELLED: "withdrawn",
    }
    return words.get(restore.status, "requested")


def _status_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, "objections/public_status.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def objection_status(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """What an objector may know: the receipt, when it came, and the outcome in words with
    its reason; never the statement, nor who decided."""
    code = (code or request.GET.get("code", "")).strip().upper()[:20]
    context: dict = {"code": code}
    if code and not RECEIPT_CHARACTERS.fullmatch(code):  # "a/b" is no receipt, and no URL
        return _status_page(request, context | {"not_found": True}, status=404)
    if code and request.GET.get("code"):
        return redirect("moderation:objection_status", code=code)
    if code:
        client = client_ip(request) or "unknown"
        if not rate_limit_hit(
            scope=PUBLIC_STATUS_SCOPE, ident=client, limit=120, window_seconds=3600
        ):
            return render(request, "objections/public_limited.html", status=429)
        objection = (
            Objection.objects.select_related("restore_request").filter(receipt_code=code).first()
        )
        if objection is None:
            return _status_page(request, context | {"not_found": True}, status=404)
        context.update(
            objection=objection,
            overdue=objection.status == Objection.Status.RECEIVED
            and objection.deadline < timezone.now(),
            restoration=_restoration(objection),
            new=request.GET.get("new") == "1",
        )
    return _status_page(request, context)


urlpatterns = [
    path("objection/", public_objection, name="objection_public"),
    path("objection/status/", objection_status, name="objection_status_lookup"),
    path("objection/status/<str:code>", objection_status, name="objection_status"),
]
