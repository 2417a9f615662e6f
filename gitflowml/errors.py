"""The one exception hierarchy. Exit codes live here and nowhere else (SPEC section 5)."""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class GitflowmlError(Exception):
    """An expected failure: the CLI prints `error: <message>` and exits with `exit_code`."""

    exit_code: ClassVar[int] = EXIT_ERROR


class NotAGitRepoError(GitflowmlError):
    pass


class NotAProjectError(GitflowmlError):
    pass


class ConfigError(GitflowmlError):
    pass


class PipelineError(GitflowmlError):
    """pipeline.yaml or a params file is malformed or inconsistent; the message says where."""


class PathError(GitflowmlError):
    """A path given by the user is missing, outside the repository or otherwise unusable."""


class PointerError(GitflowmlError):
    """A `.gfml` pointer file is unreadable or malformed."""


class ObjectMissingError(GitflowmlError):
    pass


class ObjectCorruptError(GitflowmlError):
    pass


class InvalidOidError(GitflowmlError):
    pass


class CheckoutError(GitflowmlError):
    """Checkout could not restore some paths; the message lists them."""


class RepoLockedError(GitflowmlError):
    """Another gitflowml command holds the repository lock."""


class RemoteError(GitflowmlError):
    """A remote could not be reached, refused us, or lacks what is needed."""


class StageFailedError(GitflowmlError):
    """One or more stages failed; the message names them and why."""


class Interrupted(GitflowmlError):
    exit_code: ClassVar[int] = EXIT_INTERRUPTED


class ExperimentError(GitflowmlError):
    """An experiment could not be made, found or applied; the message names it and why."""


class PlotError(GitflowmlError):
    """Plots could not be rendered (the extra is missing, a template is unusable)."""


class RegistryError(GitflowmlError):
    """Another repository (a data registry source) cannot be read, or lacks what is named."""
