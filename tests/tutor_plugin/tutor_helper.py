"""Runs inside .venv-tutor (Tutor's own environment), called by the tests as a subprocess:
Tutor's Python API for what its CLI does not print.

    python tutor_helper.py settings               the plugin's settings and init tasks (JSON)
    python tutor_helper.py schema                 path of the Compose Specification schema
    python tutor_helper.py sweep JSON             for each {ROOT: {KEY: VALUE}} item: set the
                                                  values in ROOT/config.yml and render ROOT/env
                                                  (what `tutor config save --set` does)
    python tutor_helper.py job ROOT NAME [ARG...] the rendered script of `do NAME ARG...`

The Compose Specification schema comes from the check-jsonschema wheel (PyPI), which
vendors it as check_jsonschema/builtin_schemas/vendor/compose-spec.json.
"""

from __future__ import annotations

import json
import sys

import tutor.commands.cli  # noqa: F401  (as `tutor` does: the commands declare template helpers)
from tutor import config as tutor_config
from tutor import env as tutor_env
from tutor import hooks, plugins

CONTEXT = hooks.Contexts.app("facilitation").name


def _ready(root: str) -> None:
    hooks.Actions.CORE_READY.do()
    hooks.Actions.PROJECT_ROOT_READY.do(root)


def settings() -> None:
    hooks.Actions.CORE_READY.do()
    plugins.load("facilitation")
    defaults = dict(hooks.Filters.CONFIG_DEFAULTS.iterate_from_context(CONTEXT))
    unique = [key for key, _ in hooks.Filters.CONFIG_UNIQUE.iterate_from_context(CONTEXT)]
    init = list(hooks.Filters.CLI_DO_INIT_TASKS.iterate_from_context(CONTEXT))
    print(json.dumps({"defaults": defaults, "unique": unique, "init": init}))


def schema() -> None:
    from importlib.resources import files

    print(files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json")


def sweep(plan: str) -> None:
    hooks.Actions.CORE_READY.do()
    for number, (root, values) in enumerate(json.loads(plan).items()):
        if number == 0:
            hooks.Actions.PROJECT_ROOT_READY.do(root)  # enables the plugins of config.yml
        config = tutor_config.load_minimal(root)
        config.update(values)
        tutor_config.save_config_file(root, config)
        tutor_env.save(root, tutor_config.load_full(root))


def job(root: str, name: str, *args: str) -> None:
    hooks.Actions.CORE_READY.do()
    # Loaded without the PLUGINS_LOADED action, whose handler wraps `do` callbacks to run
    # the scripts: here they only return them.
    plugins.load("facilitation")
    commands = {command.name: command for command in hooks.Filters.CLI_DO_COMMANDS.iterate()}
    tasks = list(commands[name].main(list(args), standalone_mode=False))
    config = tutor_config.load_full(root)
    for _service, script in tasks:
        print(tutor_env.render_str(config, script))


if __name__ == "__main__":
    action, *rest = sys.argv[1:]
    {"settings": settings, "schema": schema, "sweep": sweep, "job": job}[action](*rest)
