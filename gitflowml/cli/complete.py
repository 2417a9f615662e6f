"""`gitflowml completion bash|zsh|fish`: click's completion script. The completers that
offer stage, remote and experiment names are in `cli.base` (commands load them cheaply)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL. Commands, options, stage names, remote names
    and experiment names complete.

    \b
    Install it:
      bash: echo 'eval "$(gitflowml completion bash)"' >> ~/.bashrc
      zsh:  echo 'eval "$(gitflowml completion zsh)"' >> ~/.zshrc
      fish: gitflowml completion fish > ~/.config/fish/completions/gitflowml.fish
    """
    root = ctx.find_root()
    assert isinstance(root.command, click.Command)
    cls = get_completion_class(shell)
    assert cls is not None  # one of SHELLS
    click.echo(cls(root.command, {}, "gitflowml", "_GITFLOWML_COMPLETE").source())
