"""The house plan holds: the import contract (.importlinter) is kept, a backwards import or an
import cycle breaks it, and every background job is found by an explicit name."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from tests.support import ROOT

PACKAGES = (
    "accounts",
    "config",
    "devtools",
    "moderation",
    "reports",
    "signin",
    "verifier",
    "scripts",
)
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def copy_of_the_code(tmp_path: Path) -> Path:
    """The product's packages and the contract, copied, so a test can break them."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_import_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_from_accounts_into_another_app_breaks_the_contract(copy_of_the_code):
    module = copy_of_the_code / "accounts" / "identifiers.py"
    module.write_text(module.read_text() + "\nfrom moderation.models import Case  # noqa\n")
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "accounts.identifiers -> moderation.models" in result.stdout


def test_reaching_inside_another_area_breaks_the_contract(copy_of_the_code):
    module = copy_of_the_code / "reports" / "selectors.py"
    addition = "\nfrom moderation.cases.services.claims import claim_lease  # noqa\n"
    module.write_text(module.read_text() + addition)
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "reports.selectors -> moderation.cases.services.claims" in result.stdout


def test_an_import_cycle_breaks_the_contract_even_inside_a_function(copy_of_the_code):
    module = copy_of_the_code / "moderation" / "takedowns" / "services" / "common.py"
    addition = (
        "\n\ndef _probe() -> None:\n"
        "    from moderation.takedowns.tasks import takedown_deliver_task  # noqa\n"
    )
    module.write_text(module.read_text() + addition)
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "import each other" in result.stdout
    assert "moderation.takedowns.tasks" in result.stdout


def test_every_celery_task_has_an_explicit_name_and_beat_runs_only_those():
    from config.celery import app

    app.loader.import_default_modules()
    ours = {
        name: task
        for name, task in app.tasks.items()
        if task.__module__.split(".")[0] in ("moderation", "reports", "signin", "accounts")
    }
    assert ours, "no task of ours was registered"
    for name, task in ours.items():
        default_name = f"{task.__module__}.{task.__name__}"
        # Named after its app ("moderation.…", "reports.…"), never after its module path.
        assert name != default_name and name.startswith(task.__module__.split(".")[0] + "."), name
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(ours), scheduled - set(ours)


def test_every_rq_job_a_service_queues_by_name_exists():
    from moderation.audit.services.exports import EXPORT_JOB
    from reports.services.imports import IMPORT_JOB

    for name in (EXPORT_JOB, IMPORT_JOB):
        assert callable(import_string(name)), name
