from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.categories import Category
from accounts.models import ChatAccount


class SourceKind(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    POLICE = "police", _("Police")
    AGENCY = "agency", _("Other agency")
    PUBLIC = "public", _("Public")


class SourceOrganisation(models.Model):
    class Kind(models.TextChoices):
        MINISTRY = "ministry", _("Ministry")
        POLICE = "police", _("Police")
        AGENCY = "agency", _("Other agency")

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("source organisation")

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token of a source organisation. Only its SHA-256 is stored; the token itself
    is shown once, when it is issued."""

    organisation = models.ForeignKey(
        SourceOrganisation, on_delete=models.PROTECT, related_name="tokens"
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    # The first characters, kept in clear so people can tell their tokens apart.
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.organisation.slug} {self.prefix}…"


class Report(models.Model):
    source_kind = models.CharField(_("source kind"), max_length=16, choices=SourceKind.choices)
    organisation = models.ForeignKey(
        SourceOrganisation, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    # The source organisation's own id for the report: its idempotency key.
    external_reference = models.CharField(max_length=200, null=True, blank=True)
    # SHA-256 of the submitted body, to tell a retry (same body) from a conflict.
    payload_hash = models.CharField(max_length=64, blank=True)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    description = models.TextField(_("description"), blank=True)
    content_urls = ArrayField(models.TextField(), default=list, blank=True)
    account_identifier_submitted = models.CharField(max_length=1000)
    observed_at = models.DateTimeField(_("observed at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    urgent = models.BooleanField(_("suggested urgent"), default=False)
    account = models.ForeignKey(ChatAccount, on_delete=models.PROTECT, related_name="reports")
    case = models.ForeignKey("moderation.Case", on_delete=models.PROTECT, related_name="reports")
    # A public reporter's contact details: restricted to supervisors.
    reporter_name = models.CharField(max_length=200, blank=True)
    reporter_email = models.EmailField(max_length=254, blank=True)
    reporter_phone = models.CharField(max_length=40, blank=True)
    reporter_consent = models.BooleanField(default=False)
    # Who reported, for a public report: a keyed hash of their e-mail or phone (with consent)
    # or else their client address. It counts distinct people towards priority and names none.
    reporter_key = models.CharField(max_length=64, blank=True, default="", db_default="")
    # When retention erased the four fields above (moderation/retention): they are blank since.
    contact_deleted_at = models.DateTimeField(null=True, blank=True)
    receipt_code = models.CharField(max_length=16, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_reference"],
                condition=models.Q(external_reference__isnull=False),
                name="report_external_reference_unique_per_org",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(source_kind="public", organisation__isnull=True)
                    | (~models.Q(source_kind="public") & models.Q(organisation__isnull=False))
                ),
                name="report_public_has_no_organisation",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "received_at"], name="report_case_received_idx"),
            models.Index(fields=["account", "received_at"], name="report_account_received_idx"),
            models.Index(fields=["received_at", "source_kind"], name="report_received_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"Report {self.pk} ({self.receipt_code})"


def _evidence_storage():
    return storages["evidence"]


# The picture formats evidence is accepted in (every upload is re-encoded into its own
# format) and the only types ever shown inside a page; any other file is a download.
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
INLINE_IMAGE_TYPES = tuple(content_type for content_type, _ in IMAGE_FORMATS.values())


class Evidence(models.Model):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(storage=_evidence_storage, upload_to="%Y/%m/%d/", max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100)  # sniffed from the bytes, never trusted
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by_organisation = models.ForeignKey(
        SourceOrganisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    # When retention deleted the bytes (moderation/retention). The row and its SHA-256 stay;
    # `file` is emptied once the bytes are gone from storage.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = _("evidence")
        indexes = [models.Index(fields=["sha256"], name="evidence_sha256_idx")]

    def __str__(self) -> str:
        return f"Evidence {self.pk} of report {self.report_id}"

    @property
    def shown_inline(self) -> bool:
        """A picture of a type a page may show (everything else is only downloaded)."""
        return self.content_type in INLINE_IMAGE_TYPES


# PDQ (Meta's perceptual hash, 256 bits) is kept as four signed 64-bit words, w0 holding bits
# 0-63. Matching uses multi-index hashing (issue 17, README "Picture hashes"): the 256 bits are
# cut into 16 chunks of 16 bits, and two hashes within Hamming distance 31 (< 2 x 16) must agree
# on at least one chunk to within one bit. Each chunk has its own expression index; a query
# looks up every chunk of the new picture (and its one-bit neighbours) and checks the full
# distance only on those candidates.
PDQ_WORDS = ("h0", "h1", "h2", "h3")


def pdq_chunk_expression(chunk: int) -> models.Expression:
    """Chunk `chunk` (0-15) of a stored hash as a 16-bit number: the expression each chunk
    index is built on, so a query written with it uses the index."""
    word, shift = PDQ_WORDS[chunk // 4], 16 * (chunk % 4)
    column = models.F(word)
    return (column.bitrightshift(shift) if shift else column).bitand(65535)


class PictureHash(models.Model):
    """The PDQ hash of one evidence picture, computed by a Celery task after upload (never in
    the request). Kept when retention deletes the picture's bytes, so a returning ring is still
    recognised. A hash below PDQ_QUALITY_MIN is stored but never used to link."""

    evidence = models.OneToOneField(
        Evidence, primary_key=True, on_delete=models.CASCADE, related_name="picture_hash"
    )
    h0 = models.BigIntegerField()
    h1 = models.BigIntegerField()
    h2 = models.BigIntegerField()
    h3 = models.BigIntegerField()
    quality = models.PositiveSmallIntegerField()  # PDQ's 0-100
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(pdq_chunk_expression(chunk), name=f"picturehash_chunk_{chunk:02d}")
            for chunk in range(16)
        ]

    def __str__(self) -> str:
        return f"PDQ of evidence {self.evidence_id}"


class PictureVariants(models.Model):
    """The other seven dihedral variants (rotations and mirror images) of a picture's PDQ
    hash, four words each, as pdqhash computes them. A side table: the matched table stays
    narrow, and a new picture's variants are matched against the stored originals."""

    evidence = models.OneToOneField(
        Evidence, primary_key=True, on_delete=models.CASCADE, related_name="picture_variants"
    )
    words = ArrayField(models.BigIntegerField(), size=28)

    def __str__(self) -> str:
        return f"PDQ variants of evidence {self.evidence_id}"


class PictureLink(models.Model):
    """Two evidence pictures within PDQ_MATCH_DISTANCE of each other (one of them possibly
    mirrored or rotated), and the accounts they were reported on (denormalised from
    evidence -> report -> account, which never changes), so rings are built from one table.
    One row per pair, the smaller evidence id first."""

    low = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="+")
    low_account = models.ForeignKey(ChatAccount, on_delete=models.CASCADE, related_name="+")
    high_account = models.ForeignKey(ChatAccount, on_delete=models.CASCADE, related_name="+")
    distance = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="picturelink_pair_once"),
            models.CheckConstraint(
                condition=models.Q(low__lt=models.F("high")), name="picturelink_low_first"
            ),
        ]
        indexes = [
            models.Index(fields=["high"], name="picturelink_high_idx"),
            models.Index(fields=["low_account"], name="picturelink_low_account_idx"),
            models.Index(fields=["high_account"], name="picturelink_high_account_idx"),
        ]

    def __str__(self) -> str:
        return f"Evidence {self.low_id} ~ {self.high_id} ({self.distance})"


class GraphicEvidenceView(models.Model):
    """That a person was served the bytes of one graphic evidence picture on one WIB day
    (issue 16, "reviewer wellbeing"): the day's count per person is the number of rows. One
    row per (day, person, picture), however often it was opened; written by
    reports.services.wellbeing.graphic_view_record."""

    day = models.DateField()  # a WIB (Asia/Jakarta) calendar day
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="graphic_evidence_views"
    )
    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="+")
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Day first: its index also serves "today, per person" and "today, everyone".
            models.UniqueConstraint(
                fields=["day", "user", "evidence"], name="graphic_view_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} user {self.user_id} evidence {self.evidence_id}"


def _import_storage():
    return storages["default"]


class ImportJob(models.Model):
    """A bulk CSV import of one organisation's reports, run by the RQ worker; the page polls
    its progress. Per-row problems are kept (up to MAX_ERRORS) for the error report."""

    MAX_ERRORS = 2000

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(
        SourceOrganisation, on_delete=models.PROTECT, related_name="import_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(storage=_import_storage, upload_to="imports/%Y/%m/%d/", max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    conflict_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": 7, "errors": {...}}, …]
    failure = models.TextField(blank=True)  # why the whole file could not be read
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Stamped while a worker runs it (config/jobguard.py); stale = the worker is gone.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0)  # the run that owns it (jobguard)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"], name="importjob_created_idx")]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.organisation_id})"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
