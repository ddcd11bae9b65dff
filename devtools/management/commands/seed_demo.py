"""Demo data for `make run`: platforms, organisations, staff of every role, a few hundred
reports grouped into cases. Idempotent: a second run adds nothing. The reports come in
through the intake service, so accounts, cases, priorities and audit events are real."""

from __future__ import annotations

import json
import random
from base64 import b32decode
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import signing
from accounts.categories import URGENT_CATEGORIES, Category
from accounts.identifiers import normalise_identifier
from accounts.models import ChatAccount, Platform
from config.roles import Role, role_groups
from devtools.pictures import jpeg, photo, variant
from moderation.audit import Actor
from moderation.cases import DecisionInput, case_decide
from moderation.models import Case, LegalBasis, Objection, RestoreRequest, TakedownRequest
from moderation.objections import ObjectionInput, objection_decide, objection_receive
from moderation.rings import rings_rebuild
from moderation.takedowns import platform_configure
from moderation.takedowns.services.approvals import proposal_approve
from moderation.takedowns.services.callbacks import takedown_callback
from reports.models import Report, SourceOrganisation
from reports.services.evidence import evidence_check, evidence_store
from reports.services.intake import ReportInput, payload_hash, reports_receive
from reports.services.pictures import picture_hash_store

DEMO_PASSWORD = "saring-demo-2026"  # noqa: S105 - demo data only, printed by `make run`
DEMO_STAFF = [
    # `moderator` and `supervisor` also hold the Specialist role (CSAM and terrorism cases);
    # `moderator2` and `supervisor2` see that such cases exist, not what is in them.
    ("moderator", "Dewi", "Lestari", [Role.MODERATOR, Role.SPECIALIST]),
    ("moderator2", "Budi", "Santoso", [Role.MODERATOR]),
    ("supervisor", "Siti", "Rahmawati", [Role.SUPERVISOR, Role.SPECIALIST]),
    ("supervisor2", "Agus", "Prasetyo", [Role.SUPERVISOR]),
    ("auditor", "Rina", "Wijaya", [Role.AUDITOR]),
    ("admin", "Hendra", "Gunawan", [Role.ADMINISTRATOR]),
]
# Demo data only: the TOTP secrets (base32) of the demo people whose role needs two-factor
# sign-in, printed beside the logins so the demo stays usable with any authenticator app.
DEMO_TOTP_SECRETS = {
    "supervisor": "SARINGDEMOSUPERVISORSATUAAAAAAAA",
    "supervisor2": "SARINGDEMOSUPERVISORDUAAAAAAAAAA",
    "auditor": "SARINGDEMOAUDITORAAAAAAAAAAAAAAA",
    "admin": "SARINGDEMOADMINISTRATORAAAAAAAAA",
}
DEMO_PLATFORMS = [
    ("michat", "MiChat", r"michat\.(?:com|id)/(?:u/|profile/)?@?([A-Za-z0-9_.]+)"),
    ("telegram", "Telegram", r"t\.me/@?([A-Za-z0-9_]{4,})"),
    ("whatsapp", "WhatsApp", r"wa\.me/(\+?\d{8,15})"),
]
# (code, title, the categories it covers): an article on decency does not cover terrorism.
LEGAL_BASES = [
    ("uu-ite-27-1", "UU ITE Pasal 27 ayat (1)", [Category.PROSTITUTION, Category.PORNOGRAPHY]),
    (
        "uu-44-2008",
        "UU 44/2008 Pornografi",
        [Category.PROSTITUTION, Category.PORNOGRAPHY, Category.CHILD_SEXUAL_ABUSE],
    ),
    # Any prohibited content (against the law or public order): the general basis.
    ("pm-kominfo-5-2020-9-4", "PM Kominfo 5/2020 Pasal 9 ayat (4)", list(Category)),
    ("uu-ite-27-2", "UU ITE Pasal 27 ayat (2) (perjudian)", [Category.GAMBLING]),
    ("uu-35-2014", "UU 35/2014 Perlindungan Anak", [Category.CHILD_SEXUAL_ABUSE]),
    ("uu-5-2018", "UU 5/2018 Pemberantasan Tindak Pidana Terorisme", [Category.TERRORISM]),
]
# Weighted toward prostitution ("open BO"), as the ministry's own counts are.
CATEGORY_WEIGHTS = [
    (Category.PROSTITUTION, 55),
    (Category.PORNOGRAPHY, 12),
    (Category.GAMBLING, 10),
    (Category.FRAUD, 8),
    (Category.ILLEGAL_FINANCE, 3),
    (Category.DRUGS, 3),
    (Category.CHILD_SEXUAL_ABUSE, 2),
    (Category.TERRORISM, 1),
    (Category.HATE_SPEECH, 2),
    (Category.DISINFORMATION, 2),
    (Category.OTHER, 2),
]
DESCRIPTIONS = {
    Category.PROSTITUTION: [
        "Akun menawarkan layanan open BO, tarif dicantumkan di profil.",
        "Open BO area Jakarta Selatan, minta DP lewat transfer.",
        "Profil berisi foto vulgar dan ajakan 'BO', nomor WA dicantumkan.",
        "Menawarkan jasa prostitusi, ada daftar harga short time / long time.",
    ],
    Category.PORNOGRAPHY: [
        "Menjual video porno lewat grup berbayar.",
        "Konten pornografi di foto profil.",
    ],
    Category.GAMBLING: ["Promosi situs judi slot online, link deposit.", "Agen togel online."],
    Category.FRAUD: [
        "Penipuan jual beli, barang tidak dikirim.",
        "Investasi bodong, janji untung 30%.",
    ],
    Category.ILLEGAL_FINANCE: ["Pinjol ilegal, tidak terdaftar OJK."],
    Category.DRUGS: ["Menjual obat terlarang, COD area Bekasi."],
    Category.CHILD_SEXUAL_ABUSE: ["Indikasi eksploitasi anak, konten tidak dibuka oleh pelapor."],
    Category.TERRORISM: ["Ajakan bergabung dengan kelompok teror, penyebaran propaganda."],
    Category.HATE_SPEECH: ["Ujaran kebencian terhadap kelompok agama."],
    Category.DISINFORMATION: ["Hoaks tentang bantuan sosial, meminta data pribadi."],
    Category.OTHER: ["Akun mencurigakan, mengirim pesan spam berulang."],
}
NAMES = [
    "Cantik",
    "Manja",
    "Bella",
    "Sweety",
    "Nona",
    "Vina",
    "Kiki",
    "Mawar",
    "Melati",
    "Dinda",
    "Tante",
    "Baby",
    "Angel",
    "Lala",
    "Rere",
    "Jessy",
    "Putri",
    "Sisil",
]
# The demo ring (issue 17): photos (by seed of devtools.pictures.photo) and one WhatsApp number
# shared by accounts on three platforms. (platform, account, display name, reporting
# organisation or "" for the public, days ago, report text, pictures as (photo, kind of copy)).
RING_PHOTOS = (1701, 1702, 1703)
RING_ACCOUNTS = [
    (
        "michat",
        "@bella.bali",
        "Bella Bali VIP",
        "kominfo",
        14,
        "Open BO Denpasar, tarif di profil, DP via WA 0812-3344-5566.",
        [(1701, "original"), (1702, "original")],
    ),
    (
        "telegram",
        "@bellabali_vip",
        "Bella VIP Bali",
        "polri",
        9,
        "Layanan BO area Kuta, hubungi WA 0812 3344 5566.",
        [(1701, "mirrored"), (1703, "original")],
    ),
    (
        "whatsapp",
        "0812-3344-5566",
        "Bella",
        "",
        6,
        "Nomor ini menawarkan open BO dan mengirim foto vulgar.",
        [(1702, "resized")],
    ),
    (
        "telegram",
        "@dewi_bali_bo",
        "Dewi BO Bali",
        "",
        3,
        "Akun menawarkan BO, foto sama dengan akun Bella.",
        [(1703, "recompressed")],
    ),
    (
        "michat",
        "@bella.bali.baru",
        "Bella Bali (akun baru)",
        "kominfo",
        0,
        "Akun baru setelah diblokir: open BO Denpasar, WA +62 812 3344 5566.",
        [(1701, "text")],
    ),
]
CITIES = ["jkt", "bks", "bdg", "sby", "mdn", "smg", "mks", "dps", "tgr", "bgr"]
# The demo objections (issue 18): two accounts taken down on the ministry's order whose owners
# object. The first objection, forwarded by the operator, awaits a decision; the second, from
# the public form, a supervisor granted and the operator confirmed restored. (platform,
# account, display name, days since the report, report text, the owner's statement, the
# operator's reference or "" for the public form, the owner's contact (name, e-mail, phone),
# the deciding supervisor's reason or "" while it awaits a decision.)
OBJECTION_ACCOUNTS = [
    (
        "michat",
        "@dinda.kosmetik",
        "Dinda Kosmetik Original",
        5,
        "Open BO, foto profil vulgar, nomor WA di bio.",
        "Akun saya diretas awal bulan ini dan dipakai orang lain untuk iklan open BO. Saya "
        "sudah memulihkan akun dan menghapus semua unggahan itu. Akun ini saya pakai untuk "
        "berjualan kosmetik; mohon dipulihkan.",
        "MC-KB-2026-0001",
        ("Dinda Maharani", "dinda.kosmetik@example.id", "+62 813 2222 4455"),
        "",
    ),
    (
        "telegram",
        "@sari_batik_solo",
        "Sari Batik Solo",
        10,
        "Akun 'Sari' menawarkan open BO area Solo, tarif lewat DM.",
        "Saya Sari, pemilik toko batik di Solo. Akun saya tidak pernah menawarkan jasa "
        "seksual; iklan open BO itu dari akun lain bernama 'Sari Solo'. Mohon akun toko saya "
        "dipulihkan.",
        "",
        ("Sari Wulandari", "sari.batik@example.id", ""),
        "Akun ini toko batik; iklan yang dilaporkan berasal dari akun lain dengan nama serupa. "
        "Perintah pemblokiran dicabut.",
    ),
]


def phone_in_some_format(rng: random.Random) -> str:
    """One Indonesian mobile number, written the way reports actually write them."""
    prefix = rng.choice(["811", "812", "813", "821", "822", "852", "853", "857", "878", "896"])
    rest = f"{rng.randrange(10**7, 10**8)}"
    number = prefix + rest[:4] + rest[4:]
    style = rng.randrange(4)
    if style == 0:
        return f"0{prefix}-{rest[:4]}-{rest[4:]}"
    if style == 1:
        return f"+62 {prefix} {rest[:4]} {rest[4:]}"
    if style == 2:
        return f"62{number}"
    return number


class Command(BaseCommand):
    help = "Load the demo data (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reports", type=int, default=320)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            self._platforms()
            self._organisations()
            self._legal_bases()
            self._staff()
            if Report.objects.exists():
                self.stdout.write("Demo data already loaded; nothing added.")
            else:
                made = self._reports(options["reports"], random.Random(options["seed"]))
                made += self._ring()
                made += self._objections()
                self.stdout.write(
                    f"Demo data loaded: {made} reports in {Case.objects.count()} cases "
                    f"on {ChatAccount.objects.count()} accounts."
                )
        self._print_logins()

    def _ring(self) -> int:
        """A ring (issue 17): one operator's accounts on three platforms sharing photos and a
        WhatsApp number. The first is taken down once the others were reported — proposed,
        approved by a second person and confirmed by the operator's signed callback, the real
        way — and the last comes back after it with the same number and a captioned copy of
        its photo: the queue flags it (and only it) "Returning". Its pictures are hashed
        here, and the rings built."""
        orgs = {o.slug: o for o in SourceOrganisation.objects.all()}
        platforms = {p.slug: p for p in Platform.objects.all()}
        originals = {seed: photo(seed) for seed in RING_PHOTOS}
        made, first_case_id = 0, 0
        for index, (slug, raw, display, org_slug, days, description, pictures) in enumerate(
            RING_ACCOUNTS
        ):
            if index == len(RING_ACCOUNTS) - 1:
                # The takedown of the first account is confirmed before the last one arrives.
                self._taken_down(first_case_id)
            platform = platforms[slug]
            org = orgs.get(org_slug)
            item = ReportInput(
                platform=platform,
                identifier=normalise_identifier(
                    raw, profile_url_pattern=platform.profile_url_pattern
                ),
                identifier_submitted=raw,
                category=Category.PROSTITUTION,
                description=description,
                external_reference=None if org is None else f"DEMO-RING-{index:02d}",
                display_name=display,
                reporter_name="Warga" if org is None else "",
                received_at=timezone.now() - timedelta(days=days),
            )
            item.payload_hash = payload_hash({"ring": index, "account": raw})
            actor = Actor.organisation(org) if org is not None else Actor.public()
            outcome = reports_receive(inputs=[item], organisation=org, actor=actor)[0]
            for number, (seed, kind) in enumerate(pictures):
                picture = originals[seed] if kind == "original" else variant(originals[seed], kind)
                upload = SimpleUploadedFile(f"bukti-{index}-{number}.jpg", jpeg(picture))
                evidence = evidence_store(
                    report=outcome.report,
                    image=evidence_check(upload),
                    actor=actor,
                    uploaded_by_organisation=org,
                )
                picture_hash_store(evidence.pk)
            made += 1
            if index == 0:
                first_case_id = outcome.report.case_id
        rings_rebuild()
        return made

    def _taken_down(self, case_id: int) -> None:
        """The ring's first account taken down: a moderator proposes, a supervisor approves,
        the operator confirms with a callback signed with its secret."""
        moderator = User.objects.get(username="moderator")
        supervisor = User.objects.get(username="supervisor")
        case = Case.objects.get(pk=case_id)
        basis = LegalBasis.objects.get(code="uu-ite-27-1")
        decision = case_decide(
            case_id=case.pk,
            version=case.version,
            user=moderator,
            data=DecisionInput(
                outcome="propose_takedown",
                category=Category.PROSTITUTION,
                legal_basis_id=basis.pk,
                rationale="Iklan open BO dengan tarif dan nomor WA; foto profil vulgar.",
            ),
        )
        request = proposal_approve(decision_id=decision.pk, supervisor=supervisor)
        body = json.dumps(
            {"request_id": str(request.pk), "status": "taken_down", "reason": ""}
        ).encode()
        platform = request.platform
        result = takedown_callback(
            platform_slug=platform.slug,
            headers=signing.signed_headers(platform.callback_secret, body),
            body=body,
        )
        if result.http_status != 200:
            raise RuntimeError(f"the demo takedown was not confirmed: {result.body}")

    def _objections(self) -> int:
        """The demo objections (OBJECTION_ACCOUNTS), made the real way: each account is
        reported, taken down as the ring's first account is (proposed by `moderator`,
        approved by `supervisor`, confirmed by the operator's signed callback), and objected
        to through the objection service. `supervisor2`, who neither proposed nor approved the
        takedown, grants the second; its restore request is confirmed by the operator's signed
        `restored` callback. `supervisor` sees the first and may not decide it (fresh eyes)."""
        org = SourceOrganisation.objects.get(slug="kominfo")
        decider = User.objects.get(username="supervisor2")
        for index, row in enumerate(OBJECTION_ACCOUNTS):
            slug, raw, display, days, description, statement, reference, contact, reason = row
            platform = Platform.objects.get(slug=slug)
            item = ReportInput(
                platform=platform,
                identifier=normalise_identifier(
                    raw, profile_url_pattern=platform.profile_url_pattern
                ),
                identifier_submitted=raw,
                category=Category.PROSTITUTION,
                description=description,
                external_reference=f"DEMO-KB-{index:02d}",
                display_name=display,
                received_at=timezone.now() - timedelta(days=days),
            )
            item.payload_hash = payload_hash({"objection": index, "account": raw})
            report = reports_receive(inputs=[item], organisation=org, actor=Actor.organisation(org))
            case_id = report[0].report.case_id
            self._taken_down(case_id)
            takedown = TakedownRequest.objects.get(case_id=case_id)
            name, email, phone = contact
            forwarded = {  # what the operator sent (docs/objections.md), for its repeat check
                "objection_reference": reference,
                "request_id": str(takedown.pk),
                "statement": statement,
                "contact": {"name": name, "email": email, "phone": phone},
            }
            received = objection_receive(
                item=ObjectionInput(
                    takedown_id=takedown.pk,
                    source=Objection.Source.OPERATOR if reference else Objection.Source.PUBLIC,
                    statement=statement,
                    contact_name=name,
                    contact_email=email,
                    contact_phone=phone,
                    operator_reference=reference,
                    # As the operator API hashes the body it received.
                    payload_hash=payload_hash(forwarded) if reference else "",
                ),
                actor=Actor.operator(platform) if reference else Actor.public(),
            )
            if not reason:
                continue
            objection = objection_decide(
                objection_id=received.objection.pk,
                supervisor=decider,
                outcome=Objection.Status.GRANTED,
                reason=reason,
            )
            restore = RestoreRequest.objects.get(objection=objection)
            body = json.dumps(
                {"request_id": str(restore.pk), "status": "restored", "reason": ""}
            ).encode()
            result = takedown_callback(
                platform_slug=platform.slug,
                headers=signing.signed_headers(platform.callback_secret, body),
                body=body,
            )
            if result.http_status != 200:
                raise RuntimeError(f"the demo restoration was not confirmed: {result.body}")
        return len(OBJECTION_ACCOUNTS)

    def _print_logins(self) -> None:
        self.stdout.write(f"\n  Demo logins (password for all: {DEMO_PASSWORD})")
        for username, first, last, roles in DEMO_STAFF:
            role_names = ", ".join(role.value for role in roles)
            line = f"    {username:<12} {role_names:<22} {first} {last}"
            if username in DEMO_TOTP_SECRETS:
                line = f"{line:<56} TOTP secret {DEMO_TOTP_SECRETS[username]}"
            self.stdout.write(line)

    def _platforms(self) -> None:
        simulator = settings.OPERATOR_SIMULATOR_URL
        for slug, name, pattern in DEMO_PLATFORMS:
            restore_url = f"{simulator}/{slug}/restores"
            existing = Platform.objects.filter(slug=slug).first()
            if existing is not None:
                if not existing.restore_url:  # a demo database from before objections
                    platform_configure(
                        slug=slug, actor=Actor.system("seed_demo"), restore_url=restore_url
                    )
                continue
            platform, _ = platform_configure(
                slug=slug,
                actor=Actor.system("seed_demo"),
                name=name,
                endpoint_url=f"{simulator}/{slug}/takedowns",
                restore_url=restore_url,
                signing_secret=f"demo-signing-secret-{slug}-0123456789abcdef",
                callback_secret=f"demo-callback-secret-{slug}-0123456789abcdef",
                rate_limit_per_second=20.0,
            )
            platform.profile_url_pattern = pattern
            platform.save(update_fields=["profile_url_pattern"])

    def _organisations(self) -> None:
        for slug, name, kind in [
            ("kominfo", "Kementerian Komunikasi dan Digital (Komdigi)", "ministry"),
            ("polri", "Kepolisian Negara Republik Indonesia (Polri)", "police"),
        ]:
            SourceOrganisation.objects.get_or_create(
                slug=slug, defaults={"name": name, "kind": kind}
            )

    def _legal_bases(self) -> None:
        for code, title, categories in LEGAL_BASES:
            LegalBasis.objects.get_or_create(
                code=code,
                defaults={"title": title, "categories": [str(c) for c in categories]},
            )

    def _staff(self) -> None:
        for username, first, last, roles in DEMO_STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@saring.example",
                    "is_staff": Role.ADMINISTRATOR in roles,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                user.groups.add(*role_groups(*roles))
            if username in DEMO_TOTP_SECRETS and not TOTPDevice.objects.filter(user=user).exists():
                key = b32decode(DEMO_TOTP_SECRETS[username]).hex()
                TOTPDevice.objects.create(user=user, name="Demo authenticator", key=key)

    def _reports(self, count: int, rng: random.Random) -> int:
        now = timezone.now()
        platforms = {p.slug: p for p in Platform.objects.all()}
        orgs = {o.slug: o for o in SourceOrganisation.objects.all()}
        categories = [c for c, _ in CATEGORY_WEIGHTS]
        weights = [w for _, w in CATEGORY_WEIGHTS]
        # About three reports per account: some accounts are reported again and again.
        pool = []
        for _ in range(max(count // 3, 1)):
            slug = rng.choices(["michat", "telegram", "whatsapp"], weights=[70, 18, 12])[0]
            if slug == "whatsapp" or rng.random() < 0.45:
                raw = phone_in_some_format(rng)
            else:
                raw = (
                    "@"
                    + rng.choice(NAMES).lower()
                    + rng.choice(["", "_", "."])
                    + rng.choice(CITIES)
                    + str(rng.randrange(1, 999))
                )
            pool.append(
                (
                    slug,
                    raw,
                    rng.choices(categories, weights)[0],
                    rng.choice(NAMES) + " " + rng.choice(["BO", "VIP", "Real", "24jam", ""]),
                )
            )
        planned = []
        for index in range(count):
            if rng.random() < 0.6:
                slug, raw, category, display = rng.choice(pool)
            else:  # a few accounts are reported again and again
                slug, raw, category, display = pool[int(rng.paretovariate(1.5)) % len(pool)]
            received = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
            source = rng.choices(["ministry", "police", "public"], weights=[55, 20, 25])[0]
            org = (
                None if source == "public" else orgs["kominfo" if source == "ministry" else "polri"]
            )
            urgent = category in URGENT_CATEGORIES or rng.random() < 0.05
            description = rng.choice(DESCRIPTIONS[category])
            reference = None if org is None else f"DEMO-{org.slug.upper()}-{index:05d}"
            planned.append(
                (
                    received,
                    index,
                    platforms[slug],
                    raw,
                    display.strip(),
                    category,
                    org,
                    urgent,
                    description,
                    reference,
                )
            )
        # In the order they were received, as the intake service would have seen them.
        planned.sort(key=lambda row: (row[0], row[1]))
        for received, _, platform, raw, display, category, org, urgent, description, ref in planned:
            item = ReportInput(
                platform=platform,
                identifier=normalise_identifier(
                    raw, profile_url_pattern=platform.profile_url_pattern
                ),
                identifier_submitted=raw,
                category=category,
                description=description,
                external_reference=ref,
                display_name=display,
                urgent=urgent,
                reporter_name="Warga" if org is None else "",
                received_at=received,
            )
            item.payload_hash = payload_hash(
                {
                    "ref": ref,
                    "platform": platform.slug,
                    "account": raw,
                    "category": category,
                    "description": description,
                    "urgent": urgent,
                }
            )
            reports_receive(
                inputs=[item],
                organisation=org,
                actor=Actor.organisation(org) if org is not None else Actor.public(),
            )
        return count
