"""Load the addons' pure-Python packages without Odoo.

``oms_integration/__init__.py`` imports Odoo models, so the plain modules of
``oms_integration/lib`` are loaded here as the standalone package ``oms_lib``.
"""

import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_package(name, path):
    spec = importlib.util.spec_from_file_location(
        name, path / "__init__.py", submodule_search_locations=[str(path)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_load_package("oms_lib", ROOT / "oms_integration" / "lib")
