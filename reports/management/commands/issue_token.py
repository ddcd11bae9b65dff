from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from reports.models import SourceOrganisation
from reports.services.tokens import api_token_issue


class Command(BaseCommand):
    help = "Issue an API token for a source organisation; the token is the last line printed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("organisation", help="the organisation's slug")
        parser.add_argument("--label", default="", help="to tell tokens apart")

    def handle(self, *args, **options) -> None:
        organisation = SourceOrganisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            known = ", ".join(SourceOrganisation.objects.values_list("slug", flat=True))
            raise CommandError(f"No organisation {options['organisation']!r}. Known: {known}")
        token, plain = api_token_issue(organisation=organisation, label=options["label"])
        self.stdout.write(
            f"Issued token {token.prefix}… for {organisation.slug}. It is shown only now:"
        )
        self.stdout.write(plain)
