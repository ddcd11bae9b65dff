"""The case page and everything done on it: claim, heartbeat, decide, notes, supervision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.categories import URGENT_CATEGORIES, Category, Urgency
from config.http import client_ip, safe_next
from config.roles import Role, role_required
from moderation.access import (
    READERS,
    REVIEWERS,
    can_review,
    can_supervise,
    case_content_required,
    claim_live,
    may_decide,
)
from moderation.cases import selectors
from moderation.cases.forms import DecisionForm, EvidenceSettingsForm, NoteForm, ReassignForm
from moderation.cases.services import (
    CaseActionError,
    DecisionInput,
    case_claim_leave,
    case_claim_next,
    case_claim_open,
    case_claim_reassign,
    case_claim_release,
    case_claim_renew,
    case_decide,
    case_note_add,
    decision_withdraw,
    staff_preference_set,
)
from moderation.cases.undo import (
    note_following_case,
    offer_undo,
    undoable_decision,
    withdraw_undo_offer,
)
from moderation.cases.wellbeing import evidence_tools_for
from moderation.models import Decision


@require_GET
@role_required(*READERS)
@case_content_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    context = selectors.case_page(case_id=case_id, viewer=request.user)
    if context is None:
        raise Http404
    case = context["case"]
    live = claim_live(case)  # a lapsed claim is nobody's, swept or not
    held_by_me = live and case.claimed_by_id == request.user.pk
    supervising = can_supervise(request.user)
    context.update(
        category_choices=Category.choices,
        urgency_choices=Urgency.choices,
        suggested_urgency=Urgency.URGENT
        if case.urgent or case.category in URGENT_CATEGORIES
        else Urgency.NORMAL,
        held_by_me=held_by_me,
        held_by_other=live and not held_by_me,
        can_review=can_review(request.user),
        can_supervise=supervising,
        # Everyone who may not decide sees the page read-only.
        can_decide=may_decide(request.user, case),
        undoable=undoable_decision(case=case, decisions=context["decisions"], user=request.user),
        # Blur, grayscale, today's graphic pictures and the break prompt (issue 16).
        **evidence_tools_for(user=request.user, session=request.session),
    )
    # The ring card offers a batch of proposals when there is a case in it to decide (issue 17).
    ring = context["ring"]
    context["ring_selectable"] = ring is not None and (
        context["can_decide"] or bool(ring.decidable)
    )
    return render(request, "moderation/cases/case.html", context)


@require_POST
@role_required(*REVIEWERS)
@case_content_required
def case_claim(request: HttpRequest, case_id: int) -> HttpResponse:
    """Take one particular open case (chosen in the queue) instead of the next one."""
    try:
        case_claim_open(
            case_id=case_id,
            moderator=request.user,
            version=int(request.POST.get("version", "")),
            ip_address=client_ip(request),
        )
    except ValueError:
        messages.error(request, _("Bad form."))
    except CaseActionError as error:
        messages.error(request, str(error))
    return redirect("moderation:case", case_id=case_id)


@require_POST
@role_required(*REVIEWERS)
@case_content_required
def heartbeat(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case page's heartbeat: renews the lease when the person did something on the page
    since the last one (`active=1`, static/js/saring.js); an unattended tab lets the claim
    lapse. Tells the page when the claim was lost."""
    if request.POST.get("active") == "1":
        held = case_claim_renew(case_id=case_id, moderator=request.user) is not None
    else:
        held = selectors.claim_held(case_id=case_id, moderator=request.user)
    if held:
        return HttpResponse(status=204)
    return render(request, "moderation/cases/claim_lost.html", status=200)


@require_POST
@role_required(*REVIEWERS)
@case_content_required
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("The decision form was incomplete: %(errors)s")
            % {"errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())},
        )
        return redirect("moderation:case", case_id=case_id)
    data = form.cleaned_data
    try:
        decision = case_decide(
            case_id=case_id,
            version=data["version"],
            user=request.user,
            data=DecisionInput(
                outcome=data["outcome"],
                rationale=data["rationale"] or "",
                category=data["category"] or "",
                legal_basis_id=data["legal_basis"],
                urgency=data["urgency"] or "normal",
                repeat_reason=data["repeat_reason"] or "",
            ),
            ip_address=client_ip(request),
        )
    except CaseActionError as error:
        messages.error(request, str(error))
        return redirect("moderation:case", case_id=case_id)
    messages.success(request, _decided(decision.outcome, case_id))
    offer_undo(request, decision)
    return _after_decision(request)


def _decided(outcome: str, case_id: int) -> str:
    """What was decided, in the words of the message after it."""
    if outcome == Decision.Outcome.DISMISS:
        return _("Case #%(id)d dismissed.") % {"id": case_id}
    if outcome == Decision.Outcome.ESCALATE:
        return _("Case #%(id)d escalated to a supervisor.") % {"id": case_id}
    return _("Takedown proposed on case #%(id)d; it awaits a supervisor’s approval.") % {
        "id": case_id
    }


@require_POST
@role_required(*REVIEWERS)
@case_content_required
def decision_undo(request: HttpRequest, case_id: int, decision_id: int) -> HttpResponse:
    """The author withdraws their decision within the undo window (the service checks all)."""
    try:
        decision_withdraw(
            case_id=case_id,
            decision_id=decision_id,
            user=request.user,
            ip_address=client_ip(request),
        )
    except CaseActionError as error:
        messages.error(request, str(error))
        withdraw_undo_offer(request, decision_id)
    else:
        messages.success(
            request, _("Decision undone: case #%(id)d is back as it was.") % {"id": case_id}
        )
        following = withdraw_undo_offer(request, decision_id)
        if following is not None and following != case_id:
            case_claim_leave(
                case_id=following,
                moderator=request.user,
                ip_address=client_ip(request),
                reason="undo",
            )
    return redirect("moderation:case", case_id=case_id)


AFTER_DECISION = ("next", "queue")


def _after_decision(request: HttpRequest) -> HttpResponse:
    """Where the moderator chose to go once the decision is recorded: the next case, claimed
    for them, or back to the queue, claiming nothing (so that an urgent case is not left
    claimed by someone who has stopped). The form offers the last choice first next time."""
    then = request.POST.get("then")
    if then not in AFTER_DECISION:
        then = "queue"
    request.session["after_decision"] = then
    if then == "queue":
        return redirect("moderation:queue")
    following = case_claim_next(moderator=request.user, ip_address=client_ip(request))
    if following is None:
        messages.info(request, _("Nothing left to review: the queue is empty."))
        return redirect("moderation:queue")
    note_following_case(request, following.pk)
    return redirect("moderation:case", case_id=following.pk)


@require_POST
@role_required(*REVIEWERS)
@case_content_required
def leave(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case page was closed or left (a beacon from static/js/case-leave.js): the person's
    own claim goes back to the queue. 204 when released, 409 when they hold no claim here."""
    if case_claim_leave(case_id=case_id, moderator=request.user, ip_address=client_ip(request)):
        return HttpResponse(status=204)
    return HttpResponse(
        _("You hold no claim on this case."), status=409, content_type="text/plain; charset=utf-8"
    )


@require_POST
@role_required(*REVIEWERS)
@case_content_required
def add_note(request: HttpRequest, case_id: int) -> HttpResponse:
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A note cannot be empty."))
    else:
        try:
            case_note_add(
                case_id=case_id,
                author=request.user,
                body=form.cleaned_data["body"],
                ip_address=client_ip(request),
            )
        except CaseActionError as error:
            messages.error(request, str(error))
    return redirect("moderation:case", case_id=case_id)


@require_POST
@role_required(Role.SUPERVISOR)
@case_content_required
def release(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        version = int(request.POST["version"]) if request.POST.get("version") else None
        case_claim_release(
            case_id=case_id,
            supervisor=request.user,
            version=version,
            ip_address=client_ip(request),
        )
        messages.success(request, _("The claim was released; the case is back in the queue."))
    except ValueError:
        messages.error(request, _("Bad form."))
    except CaseActionError as error:
        messages.error(request, str(error))
    return redirect("moderation:case", case_id=case_id)


@require_POST
@role_required(Role.SUPERVISOR)
@case_content_required
def reassign(request: HttpRequest, case_id: int) -> HttpResponse:
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Name the reviewer to hand the case to."))
        return redirect("moderation:case", case_id=case_id)
    to_user = (
        get_user_model()
        .objects.filter(username=form.cleaned_data["to_user"], is_active=True)
        .first()
    )
    if to_user is None:
        messages.error(request, _("There is no such user."))
        return redirect("moderation:case", case_id=case_id)
    try:
        case_claim_reassign(
            case_id=case_id,
            supervisor=request.user,
            to_user=to_user,
            version=form.cleaned_data["version"],
            ip_address=client_ip(request),
        )
        messages.success(request, _("Case handed to %(user)s.") % {"user": to_user.get_username()})
    except CaseActionError as error:
        messages.error(request, str(error))
    return redirect("moderation:case", case_id=case_id)


@require_POST
@role_required(*READERS)
def evidence_preference(request: HttpRequest) -> HttpResponse:
    """Keep evidence blurred, blur level and grayscale (the case page and My evidence settings)."""
    form = EvidenceSettingsForm(request.POST)
    if form.is_valid():
        staff_preference_set(user=request.user, **form.changes(), ip_address=client_ip(request))
        messages.success(request, _("Your evidence setting was saved."))
    else:
        messages.error(request, _("Choose your evidence settings from the lists."))
    return redirect(safe_next(request, request.POST.get("back"), default=reverse("home")))


urlpatterns = [
    path("cases/<int:case_id>/", case_detail, name="case"),
    path("cases/<int:case_id>/claim/", case_claim, name="case_claim"),
    path("cases/<int:case_id>/heartbeat/", heartbeat, name="case_heartbeat"),
    path("cases/<int:case_id>/leave/", leave, name="case_leave"),
    path("cases/<int:case_id>/decide/", decide, name="case_decide"),
    path(
        "cases/<int:case_id>/decisions/<int:decision_id>/undo/",
        decision_undo,
        name="decision_undo",
    ),
    path("cases/<int:case_id>/notes/", add_note, name="case_note"),
    path("cases/<int:case_id>/release/", release, name="case_release"),
    path("cases/<int:case_id>/reassign/", reassign, name="case_reassign"),
    path("preferences/evidence/", evidence_preference, name="evidence_preference"),
]
