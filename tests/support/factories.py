from __future__ import annotations

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.models import ChatAccount, Platform
from config.roles import Role
from moderation.models import Case, Decision, LegalBasis
from reports.models import Report, SourceOrganisation
from reports.services import receipt_code_new
from signin.models import StaffRole

PASSWORD = "correct-horse-battery-staple"


def role_group(role: Role) -> Group:
    """The group bound to `role`'s key. A transactional test's flush removes what the
    migrations made (groups and their keys), so it is made again here when missing."""
    group = Group.objects.filter(staff_role__key=role.value).first()
    if group is None:
        group, _ = Group.objects.get_or_create(name=role.value)
        StaffRole.objects.create(key=role.value, group=group)
    return group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@saring.example")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*(role_group(role) for role in extracted))
        if create:
            self.save()


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"platform{n}")
    name = factory.LazyAttribute(lambda p: p.slug.title())
    endpoint_url = factory.LazyAttribute(lambda p: f"http://127.0.0.1:9/{p.slug}/takedowns")
    signing_secret = factory.LazyAttribute(lambda p: f"signing-secret-of-{p.slug}-0123456789abcdef")
    callback_secret = factory.LazyAttribute(
        lambda p: f"callback-secret-of-{p.slug}-0123456789abcdef"
    )


class ChatAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatAccount

    platform = factory.SubFactory(PlatformFactory)
    identifier = factory.Sequence(lambda n: f"account{n}")
    identifier_kind = "handle"
    first_reported_at = factory.LazyFunction(timezone.now)
    last_reported_at = factory.LazyFunction(timezone.now)


class SourceOrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceOrganisation
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"org{n}")
    name = factory.LazyAttribute(lambda o: o.slug.upper())
    kind = "ministry"


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    account = factory.SubFactory(ChatAccountFactory)
    category = "prostitution"


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    source_kind = "ministry"
    organisation = factory.SubFactory(SourceOrganisationFactory)
    external_reference = factory.Sequence(lambda n: f"EXT-{n}")
    category = "prostitution"
    description = "Open BO"
    account_identifier_submitted = factory.LazyAttribute(lambda r: r.case.account.identifier)
    case = factory.SubFactory(CaseFactory)
    account = factory.LazyAttribute(lambda r: r.case.account)
    receipt_code = factory.LazyFunction(receipt_code_new)


class LegalBasisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegalBasis
        django_get_or_create = ["code"]

    code = "uu-ite-27-1"
    title = "UU ITE Pasal 27 ayat (1)"
    # As the demo data and migration 0014 map it: an article on decency.
    categories = ["prostitution", "pornography"]


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    case = factory.SubFactory(CaseFactory)
    moderator = factory.SubFactory(UserFactory)
    outcome = "propose_takedown"
    category = "prostitution"
    legal_basis = factory.SubFactory(LegalBasisFactory)
    rationale = "Profile advertises paid sex with a price list."
    case_version = factory.LazyAttribute(lambda d: d.case.version)


# --- Approvals, takedown requests, delivery attempts (issues 6 and 8) ---------------------
from datetime import timedelta  # noqa: E402

from moderation.models import Approval, DeliveryAttempt, TakedownRequest  # noqa: E402


class ApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Approval

    decision = factory.SubFactory(DecisionFactory)
    decision_author = factory.LazyAttribute(lambda a: a.decision.moderator)
    supervisor = factory.SubFactory(UserFactory)
    verdict = "approved"
    comment = "Checked the evidence."


class TakedownRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TakedownRequest

    approval = factory.SubFactory(ApprovalFactory)
    case = factory.LazyAttribute(lambda r: r.approval.decision.case)
    platform = factory.LazyAttribute(lambda r: r.case.account.platform)
    account = factory.LazyAttribute(lambda r: r.case.account)
    category = factory.LazyAttribute(lambda r: r.approval.decision.category or "prostitution")
    legal_basis = "UU ITE Pasal 27 ayat (1)"
    urgency = "normal"
    summary = "Account offers paid sex."
    issued_at = factory.LazyFunction(timezone.now)
    deadline = factory.LazyAttribute(lambda r: r.issued_at + timedelta(hours=24))
    status = "pending"


class DeliveryAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryAttempt

    request = factory.SubFactory(TakedownRequestFactory)
    number = factory.Sequence(lambda n: n + 1)
    started_at = factory.LazyFunction(timezone.now)
    http_status = 202
    latency_ms = 40
    outcome = "acknowledged"
