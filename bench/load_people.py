"""The people of the load test (`make load`): the moderators, supervisors (with their
authenticator secrets) and auditors it is told to make, and an API token for the ministry's
crawler, written as JSON for bench/locustfile.py. Run by `scripts/dev.py load` on the load
test's own database."""

from __future__ import annotations

import json
import sys

from bench.common import PASSWORD, django_ready, staff


def main(path: str, counts: dict[str, int]) -> None:
    django_ready(migrate=False)
    from reports.models import SourceOrganisation
    from reports.services.tokens import api_token_issue

    people = {
        "password": PASSWORD,
        "moderators": [
            staff(f"load-mod-{n:02d}", "Moderator")[0].username for n in range(counts["moderators"])
        ],
        "supervisors": [
            [user.username, secret]
            for user, secret in (
                staff(f"load-sup-{n}", "Supervisor") for n in range(counts["supervisors"])
            )
        ],
        "auditors": [
            [user.username, secret]
            for user, secret in (
                staff(f"load-aud-{n}", "Auditor") for n in range(counts["auditors"])
            )
        ],
    }
    kominfo = SourceOrganisation.objects.get(slug="kominfo")
    people["api_token"] = api_token_issue(organisation=kominfo, label="load test")[1]
    with open(path, "w") as out:  # noqa: PTH123
        json.dump(people, out)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
