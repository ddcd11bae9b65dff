import django.contrib.postgres.operations
from django.db import migrations, models

OPEN = "('open', 'in_review', 'escalated', 'proposed', 'approved')"
UNCONFIRMED = "('pending', 'sent', 'acknowledged', 'failed')"

# Indexes the dashboard and the global search need. They sit on other apps' tables and are
# partial or expression indexes, so they are written here as SQL and kept out of the models'
# state: each app's models stay as their owners wrote them.
INDEXES = [
    (
        "dashboard_case_open_idx",
        f"ON moderation_case (status, category, opened_at) WHERE status IN {OPEN}",
    ),
    (
        "dashboard_takedown_unconfirmed_idx",
        f"ON moderation_takedownrequest (deadline, status, platform_id) "
        f"WHERE status IN {UNCONFIRMED}",
    ),
    (
        "search_chataccount_identifier_trgm",
        "USING gin ((identifier::text) gin_trgm_ops)",
    ),
    (
        "search_chataccount_display_name_trgm",
        "USING gin (UPPER(display_name::text) gin_trgm_ops)",
    ),
    (
        "search_report_external_reference_idx",
        "ON reports_report (external_reference) WHERE external_reference IS NOT NULL",
    ),
]


def _create(name: str, body: str) -> str:
    if body.startswith("USING"):
        body = f"ON accounts_chataccount {body}"
    return f"CREATE INDEX {name} {body};"


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0004_audit_append_only"),
        ("accounts", "0001_initial"),
        ("reports", "0001_initial"),
    ]

    operations = [
        django.contrib.postgres.operations.TrigramExtension(),
        migrations.CreateModel(
            name="DashboardDaily",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                (
                    "metric",
                    models.CharField(
                        choices=[
                            ("reports", "Reports received"),
                            ("decisions", "Decisions"),
                            ("td_issued", "Takedown requests issued"),
                            ("td_done", "Taken down"),
                            ("td_4h", "Taken down within 4 hours"),
                            ("td_24h", "Taken down within 24 hours"),
                            ("td_in_time", "Taken down before the deadline"),
                        ],
                        max_length=16,
                    ),
                ),
                ("key", models.CharField(max_length=64)),
                ("value", models.PositiveIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("metric", "day", "key"), name="dashboard_daily_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="DashboardRefresh",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("refreshed_at", models.DateTimeField()),
                ("window_start", models.DateField()),
                ("snapshot", models.JSONField(default=dict)),
            ],
        ),
        *(
            migrations.RunSQL(_create(name, body), f"DROP INDEX {name};")
            for name, body in INDEXES
        ),
    ]
