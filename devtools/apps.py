from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """The demo data, the bulk data of the benchmarks and the operator simulator: tools for
    developers and demonstrations. Product code never imports this app (the import contract
    in .importlinter says so, and `make lint` checks it)."""

    name = "devtools"
    verbose_name = "Developer tools"
