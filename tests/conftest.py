"""Load the addons' pure-Python packages without Odoo.

``<addon>/__init__.py`` imports Odoo models, so the plain modules of each
addon's ``lib`` package are loaded here as standalone packages:
``oms_lib`` (the core), ``mobiwork_lib`` and ``cloudify_lib`` (the providers).

A provider's ``lib`` imports the core's as Odoo names it,
``odoo.addons.oms_integration.lib``; without Odoo that name is bound here to
``oms_lib`` (and only that name: nothing else of Odoo is pretended).
"""

import importlib.util
import pathlib
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_package(name, path):
    spec = importlib.util.spec_from_file_location(
        name, path / "__init__.py", submodule_search_locations=[str(path)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _bind_core_lib_for_providers(core_lib):
    parents = ("odoo", "odoo.addons", "odoo.addons.oms_integration")
    for name in parents:
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = []  # a package with nothing else importable
            sys.modules[name] = module
    sys.modules["odoo.addons.oms_integration"].lib = core_lib
    sys.modules["odoo.addons.oms_integration.lib"] = core_lib
    # The same module objects under both names (one NormalizedOrder class).
    for path in sorted((ROOT / "oms_integration" / "lib").glob("*.py")):
        if path.stem != "__init__":
            module = importlib.import_module(f"oms_lib.{path.stem}")
            sys.modules[f"odoo.addons.oms_integration.lib.{path.stem}"] = module


oms_lib = _load_package("oms_lib", ROOT / "oms_integration" / "lib")
_bind_core_lib_for_providers(oms_lib)
for _addon, _name in (
    ("oms_integration_mobiwork", "mobiwork_lib"),
    ("oms_integration_cloudify", "cloudify_lib"),
):
    if (ROOT / _addon / "lib" / "__init__.py").exists():
        _load_package(_name, ROOT / _addon / "lib")
