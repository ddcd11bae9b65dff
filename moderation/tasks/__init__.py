"""Celery tasks of moderation, one module per area (claims, delivery, SLA, …).

Celery's autodiscovery imports `moderation.tasks`; importing every submodule here registers
them all without a list to keep in step.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
