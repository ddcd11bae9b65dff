# Issue 16: legal bases name the categories they cover; a decision can be undone by its author.

import django.contrib.postgres.fields
from django.db import migrations, models

# The bases the demo and the first deployments were seeded with, recognised by code, and the
# categories each covers. A basis not recognised here covers nothing until an administrator
# maps it in the admin: refusing a takedown is safer than sending one on the wrong article.
ALL_CATEGORIES = [
    "prostitution",
    "pornography",
    "child_sexual_abuse",
    "gambling",
    "fraud",
    "illegal_finance",
    "terrorism",
    "drugs",
    "hate_speech",
    "disinformation",
    "other",
]
KNOWN_BASES = {
    # UU ITE Art. 27(1): content that violates decency.
    "uu-ite-27-1": ["prostitution", "pornography"],
    # UU 44/2008 on pornography, child pornography included (Art. 4(1)(f)).
    "uu-44-2008": ["prostitution", "pornography", "child_sexual_abuse"],
    # PM Kominfo 5/2020 Art. 9(4): any prohibited content (against the law, public order).
    "pm-kominfo-5-2020-9-4": ALL_CATEGORIES,
    # UU ITE Art. 27(2): gambling.
    "uu-ite-27-2": ["gambling"],
    # UU 35/2014 on child protection.
    "uu-35-2014": ["child_sexual_abuse"],
    # UU 5/2018 on terrorism.
    "uu-5-2018": ["terrorism"],
}


def map_known_bases(apps, schema_editor):
    LegalBasis = apps.get_model("moderation", "LegalBasis")
    for code, categories in KNOWN_BASES.items():
        LegalBasis.objects.filter(code=code, categories=[]).update(categories=categories)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0013_case_legal_hold"),
    ]

    operations = [
        migrations.AddField(
            model_name="decision",
            name="status_before",
            field=models.CharField(blank=True, db_default="", default="", max_length=16),
        ),
        migrations.AddField(
            model_name="decision",
            name="withdrawn_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="legalbasis",
            name="categories",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("prostitution", "Prostitution"),
                        ("pornography", "Pornography"),
                        ("child_sexual_abuse", "Child sexual abuse material"),
                        ("gambling", "Gambling"),
                        ("fraud", "Fraud"),
                        ("illegal_finance", "Illegal finance"),
                        ("terrorism", "Terrorism"),
                        ("drugs", "Drugs"),
                        ("hate_speech", "Hate speech"),
                        ("disinformation", "Disinformation"),
                        ("other", "Other"),
                    ],
                    max_length=32,
                ),
                blank=True,
                default=list,
                help_text="The categories a takedown under this legal basis may have.",
                size=None,
                verbose_name="categories covered",
            ),
        ),
        migrations.RunPython(map_known_bases, migrations.RunPython.noop),
    ]
