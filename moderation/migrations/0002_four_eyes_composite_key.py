from django.db import migrations


class Migration(migrations.Migration):
    """Tie Approval.decision_author to the decision's real author.

    The four-eyes check constraint compares supervisor with decision_author on the approval
    row; this composite foreign key makes decision_author impossible to fake, so the
    database itself refuses an approval by the person who made the decision.
    """

    dependencies = [("moderation", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql="""
                ALTER TABLE moderation_approval
                ADD CONSTRAINT approval_author_is_decision_moderator
                FOREIGN KEY (decision_id, decision_author_id)
                REFERENCES moderation_decision (id, moderator_id);
            """,
            reverse_sql="""
                ALTER TABLE moderation_approval
                DROP CONSTRAINT approval_author_is_decision_moderator;
            """,
        ),
    ]
