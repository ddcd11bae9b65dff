"""The Django admin, walked the way the role matrix walks URLs (the rules issue).

Every model the admin shows is in WALK below: either read-only — nothing added or changed,
not even by a superuser — or audited, where each save through its real add or change page
(read from the page's HTML as a browser would, one field altered, posted back) writes an audit
event in the same transaction. A model registered without a line here fails the build."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from config.roles import Role, has_role, roles_of
from moderation.models import AuditEvent, Case
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    LegalBasisFactory,
    PlatformFactory,
    SourceOrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

READ_ONLY, AUDITED = "read-only", "audited"
WALK = {
    "accounts.chataccount": READ_ONLY,
    "moderation.case": READ_ONLY,  # changed only by decisions, with their events
    "reports.apitoken": READ_ONLY,  # issued and revoked by audited actions
    "otp_totp.totpdevice": READ_ONLY,  # removed (audited); never made or edited for someone
    "axes.accessattempt": READ_ONLY,  # deleted to lift a lockout (audited)
    "axes.accesslog": READ_ONLY,
    "axes.accessfailurelog": READ_ONLY,
    "signin.signinrecovery": AUDITED,  # asked for on the add page; decided by actions
    "moderation.legalbasis": AUDITED,
    "accounts.platform": AUDITED,
    "reports.sourceorganisation": AUDITED,
    "auth.user": AUDITED,
}


class _Form(HTMLParser):
    """The fields of the page's main form, as a browser would submit them unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value") or "on")
            elif kind not in ("submit", "button", "file"):
                self._add(name, a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def _page_form(client, url: str) -> dict[str, list[str]]:
    page = client.get(url)
    assert page.status_code == 200, url
    parser = _Form()
    parser.feed(page.content.decode())
    return parser.data


def _url(label: str, view: str, *args) -> str:
    opts = apps.get_model(label)._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.fixture
def superuser(db):
    return UserFactory(
        username="root", is_staff=True, is_superuser=True, roles=[Role.ADMINISTRATOR]
    )


def test_every_model_in_the_admin_is_in_the_walk():
    assert {model._meta.label_lower for model in admin.site._registry} == set(WALK)


@pytest.mark.parametrize("label", sorted(k for k, v in WALK.items() if v == READ_ONLY))
def test_a_read_only_model_cannot_be_added_or_changed_even_by_a_superuser(
    label, superuser, client_for
):
    model_admin = admin.site._registry[apps.get_model(label)]
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert client_for(superuser).get(_url(label, "add")).status_code == 403


def test_a_case_posted_to_its_admin_page_is_refused_and_unchanged(superuser, client_for):
    case = CaseFactory(status="open")
    client = client_for(superuser)
    url = _url("moderation.case", "change", case.pk)
    response = client.post(url, {"status": "dismissed", "category": "other"})
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).status == "open"


# label -> (make the record, the field to alter, its new value)
CHANGES = {
    "moderation.legalbasis": (LegalBasisFactory, "title", "UU ITE Pasal 27 ayat (1), diubah"),
    "accounts.platform": (lambda: PlatformFactory(slug="michat"), "name", "MiChat Indonesia"),
    "reports.sourceorganisation": (SourceOrganisationFactory, "kind", "police"),
    "auth.user": (lambda: UserFactory(roles=[Role.MODERATOR]), "email", "dewi@kominfo.go.id"),
}


@pytest.mark.parametrize("label", sorted(CHANGES))
def test_each_save_on_a_change_page_writes_an_audit_event(label, administrator, client_for):
    make, field, value = CHANGES[label]
    record = make()
    client = client_for(administrator)
    url = _url(label, "change", record.pk)
    data = _page_form(client, url)
    data[field] = [value]
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    record.refresh_from_db()
    assert str(getattr(record, field)) == value
    events = AuditEvent.objects.filter(subject_id=str(record.pk)).order_by("-sequence")
    assert AuditEvent.objects.count() == before + 1
    assert events.first().actor_label.endswith(administrator.get_username())


def test_adding_a_legal_basis_an_organisation_or_a_person_writes_an_audit_event(
    administrator, client_for
):
    client = client_for(administrator)
    adds = {
        "moderation.legalbasis": {"code": ["pp-71-2019"], "title": ["PP 71/2019"]},
        "reports.sourceorganisation": {"slug": ["bnn"], "name": ["BNN"], "kind": ["agency"]},
        "auth.user": {"username": ["sari"]},
    }
    for label, fields in adds.items():
        url = _url(label, "add")
        data = _page_form(client, url)
        data.update(fields)
        before = AuditEvent.objects.count()
        response = client.post(url, data)
        assert response.status_code == 302, (label, response.content.decode()[:3000])
        assert AuditEvent.objects.count() == before + 1, label
    sari = UserFactory._meta.model.objects.get(username="sari")
    assert not sari.has_usable_password()  # the first password comes by a recovery


def test_an_administrator_cannot_choose_a_new_persons_password(administrator, client_for):
    client = client_for(administrator)
    data = _page_form(client, _url("auth.user", "add"))
    assert "password1" not in data and "password2" not in data
    chosen = "chosen-by-admin-2026"
    data.update({"username": ["ghost"], "password1": [chosen], "password2": [chosen]})
    assert client.post(_url("auth.user", "add"), data).status_code == 302
    ghost = UserFactory._meta.model.objects.get(username="ghost")
    assert not ghost.check_password(chosen) and not ghost.has_usable_password()


def test_an_administrator_cannot_rename_a_role_or_grant_a_permission(administrator, client_for):
    client = client_for(administrator)
    moderators = Group.objects.get(staff_role__key=Role.MODERATOR.value)
    assert client.get("/admin/auth/group/").status_code == 404
    renamed = client.post(f"/admin/auth/group/{moderators.pk}/change/", {"name": "Supervisor"})
    assert renamed.status_code == 404
    assert Group.objects.get(pk=moderators.pk).name == "Moderator"
    person = UserFactory(roles=[Role.MODERATOR])
    url = _url("auth.user", "change", person.pk)
    data = _page_form(client, url)
    assert "user_permissions" not in data and "is_superuser" not in data
    data["is_superuser"] = ["on"]
    data["user_permissions"] = ["1", "2", "3"]
    assert client.post(url, data).status_code == 302
    person.refresh_from_db()
    assert not person.is_superuser and not person.user_permissions.exists()
    Group.objects.create(name="Ghost")  # not a role: never offered as one
    page = client.get(url).content.decode()
    roles = Group.objects.filter(staff_role__isnull=False)
    assert roles.count() == len(Role)
    assert all(f'value="{group.pk}"' in page for group in roles)
    assert "Ghost" not in page


def test_roles_are_checked_by_key_so_renaming_a_group_changes_nobodys_access():
    moderator = UserFactory(roles=[Role.MODERATOR])
    # By any path that bypasses the admin (a console, a script): the name is only a label.
    Group.objects.filter(staff_role__key=Role.MODERATOR.value).update(name="Renamed")
    Group.objects.filter(staff_role__key=Role.SUPERVISOR.value).update(name="Old supervisors")
    impostor = Group.objects.create(name=Role.SUPERVISOR.value)  # a look-alike, no key
    moderator.groups.add(impostor)
    moderator = type(moderator).objects.get(pk=moderator.pk)  # no cached roles
    assert roles_of(moderator) == {Role.MODERATOR}
    assert not has_role(moderator, Role.SUPERVISOR)


def test_a_chat_account_is_not_editable_in_the_admin(administrator, client_for):
    account = ChatAccountFactory()
    response = client_for(administrator).post(
        _url("accounts.chataccount", "change", account.pk), {"display_name": "changed"}
    )
    assert response.status_code == 403
