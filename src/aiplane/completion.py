"""Shell completion of values click cannot know: the environment names of the project around the working
directory (the stems of environments/*.yaml), for every `--env` option."""

from __future__ import annotations

from click import Context, Parameter
from click.shell_completion import CompletionItem

from aiplane.errors import InputError
from aiplane.project import load_settings


def environment_names(ctx: Context, param: Parameter, incomplete: str) -> list[CompletionItem]:
    """Environment names starting with `incomplete`; none outside a project or when the folder is unreadable
    (completion must never print an error into the user's command line)."""
    # Imported here: the cli imports this module, and every command (even --help) would pay for the models.
    from aiplane.synthesis.environment import ENVIRONMENT_SUFFIXES

    try:
        folder = load_settings().environments
        names = sorted(
            {p.stem for p in folder.iterdir() if p.suffix in ENVIRONMENT_SUFFIXES and not p.name.startswith(".")}
        )
    except (InputError, OSError):
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]
