"""The categories of DESIGN.md "Categories and urgency", shared by reports and moderation.

They live here, in the app that imports no other, so that both intake and moderation can use
them without importing each other.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    PROSTITUTION = "prostitution", _("Prostitution")
    PORNOGRAPHY = "pornography", _("Pornography")
    CHILD_SEXUAL_ABUSE = "child_sexual_abuse", _("Child sexual abuse material")
    GAMBLING = "gambling", _("Gambling")
    FRAUD = "fraud", _("Fraud")
    ILLEGAL_FINANCE = "illegal_finance", _("Illegal finance")
    TERRORISM = "terrorism", _("Terrorism")
    DRUGS = "drugs", _("Drugs")
    HATE_SPEECH = "hate_speech", _("Hate speech")
    DISINFORMATION = "disinformation", _("Disinformation")
    OTHER = "other", _("Other")


# Categories whose takedown deadline is 4 hours instead of 24 (DESIGN.md "Deadlines").
URGENT_CATEGORIES = frozenset({Category.CHILD_SEXUAL_ABUSE, Category.TERRORISM})

# Categories only people in the Specialist role review (issue 16, "restricted queues"):
# everyone else sees that such cases exist, never their content or evidence. The one rule
# that applies it is reports.access.can_see_content.
RESTRICTED_CATEGORIES = frozenset({Category.CHILD_SEXUAL_ABUSE, Category.TERRORISM})

# Categories whose pictures are graphic for the people who review them (issue 16, "reviewer
# wellbeing"): each picture of such a case a person opens counts toward their day's total
# (reports.services.wellbeing), and past GRAPHIC_DAILY_BREAK_THRESHOLD they are offered a break.
GRAPHIC_CATEGORIES = frozenset(
    {
        Category.CHILD_SEXUAL_ABUSE,
        Category.TERRORISM,
        Category.PORNOGRAPHY,
        Category.PROSTITUTION,
    }
)


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal (24 hours)")
    URGENT = "urgent", _("Urgent (4 hours)")
