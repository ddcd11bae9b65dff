"""Retention reaches objections (README "Retention"): when the owner's pictures and contact
details were deleted. Both nullable, so adding them rewrites no table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0017_objections_restore"),
    ]

    operations = [
        migrations.AddField(
            model_name="objection",
            name="contact_deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="objectionattachment",
            name="deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
