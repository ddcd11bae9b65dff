"""The reviewer queue's index and its full-text search indexes (issue 4).

The GIN indexes are expression indexes on the other apps' tables, kept here with the queue
that searches them: `moderation/cases/selectors.py` queries these exact expressions.
"""

from django.db import migrations, models

REPORT_TSV = "to_tsvector('simple'::regconfig, coalesce(description, ''))"
ACCOUNT_TSV = (
    "to_tsvector('simple'::regconfig, coalesce(identifier, '') || ' ' || coalesce(display_name, ''))"
)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0005_dashboard_summary"),
        ("reports", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["-priority", "id"],
                condition=models.Q(status__in=["open", "in_review"]),
                name="case_queue_idx",
            ),
        ),
        migrations.RunSQL(
            f"CREATE INDEX report_search_gin ON reports_report USING gin ({REPORT_TSV})",
            "DROP INDEX IF EXISTS report_search_gin",
        ),
        migrations.RunSQL(
            f"CREATE INDEX chataccount_search_gin ON accounts_chataccount USING gin ({ACCOUNT_TSV})",
            "DROP INDEX IF EXISTS chataccount_search_gin",
        ),
    ]
