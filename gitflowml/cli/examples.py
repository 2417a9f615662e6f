"""An example or two for every command's help, kept in one table and added to the help
text when the command is loaded (commands whose docstring has its own examples keep those)."""

from __future__ import annotations

import click

EXAMPLES: dict[str, tuple[str, ...]] = {
    "init": ("gitflowml init",),
    "status": ("gitflowml status", "gitflowml status train --json", "gitflowml status --check"),
    "checkout": ("gitflowml checkout", "gitflowml checkout data/raw -f"),
    "repro": ("gitflowml repro", "gitflowml repro train -s", "gitflowml repro -j 4 --pull"),
    "dag": ("gitflowml dag", "gitflowml dag train --format mermaid --md"),
    "remote": ("gitflowml remote add -d store s3://bucket/cache", "gitflowml remote list"),
    "remote add": (
        "gitflowml remote add -d store /mnt/shared/cache",
        "gitflowml remote add team s3://bucket/ml/cache",
    ),
    "remote list": ("gitflowml remote list",),
    "remote modify": (
        "gitflowml remote modify team endpoint_url http://minio:9000",
        "gitflowml remote modify team secret ... --local",
    ),
    "remote remove": ("gitflowml remote remove team",),
    "push": ("gitflowml push", "gitflowml push model.pkl -r team -j 16"),
    "fetch": ("gitflowml fetch", "gitflowml fetch --all-branches"),
    "pull": ("gitflowml pull", "gitflowml pull data/raw -r team"),
    "gc": ("gitflowml gc -w --dry", "gitflowml gc -a --cloud -r team"),
    "record": ("gitflowml record", "gitflowml record HEAD~1"),
    "lineage": ("gitflowml lineage model.pkl", "gitflowml lineage model.pkl --rev v1.0 --json"),
    "log": ("gitflowml log train -n 5", "gitflowml log model.pkl --json"),
    "install": ("gitflowml install",),
    "metrics": ("gitflowml metrics show", "gitflowml metrics diff main feature"),
    "metrics show": ("gitflowml metrics show", "gitflowml metrics show -a --md"),
    "metrics diff": ("gitflowml metrics diff", "gitflowml metrics diff main feature --json"),
    "params": ("gitflowml params diff main",),
    "params diff": ("gitflowml params diff", "gitflowml params diff main feature --all"),
    "diff": ("gitflowml diff", "gitflowml diff HEAD~1 HEAD"),
    "check-large-files": ("gitflowml check-large-files --max-kb 1024",),
    "check-pushed": ("gitflowml check-pushed -r team",),
    "import-dvc": ("cd my-dvc-project && gitflowml init && gitflowml import-dvc",),
    "merge-driver": ("git config merge.gitflowml-lock.driver 'gitflowml merge-driver %O %A %B'",),
    "exp": ("gitflowml exp run -S train.lr=0.01", "gitflowml exp show"),
    "exp run": (
        "gitflowml exp run -S train.lr=0.001,0.01 --queue",
        "gitflowml exp run --run-all -j 2",
    ),
    "exp show": ("gitflowml exp show", "gitflowml exp show --sort-by acc --md"),
    "exp diff": ("gitflowml exp diff lr-small lr-big",),
    "exp apply": ("gitflowml exp apply lr-small",),
    "exp branch": ("gitflowml exp branch lr-small tune-lr",),
    "exp remove": ("gitflowml exp remove lr-small", "gitflowml exp remove --all"),
    "exp push": ("gitflowml exp push origin lr-small",),
    "exp pull": ("gitflowml exp pull origin lr-small",),
    "exp list": ("gitflowml exp list origin",),
    "exp queue": ("gitflowml exp queue status", "gitflowml exp queue logs lr-small"),
    "exp queue status": ("gitflowml exp queue status",),
    "exp queue remove": ("gitflowml exp queue remove --all",),
    "exp queue logs": ("gitflowml exp queue logs lr-small",),
    "plots": ("gitflowml plots show --open", "gitflowml plots diff main"),
    "plots show": ("gitflowml plots show", "gitflowml plots show --format png -o plots/"),
    "plots diff": ("gitflowml plots diff main feature", "gitflowml plots diff --exp lr-small"),
    "plots templates": ("gitflowml plots templates", "gitflowml plots templates linear"),
    "completion": ('eval "$(gitflowml completion bash)"',),
}


def attach(name: str, command: click.Command) -> None:
    """Add the examples of `name` (and of its subcommands) to their help, once."""
    lines = EXAMPLES.get(name)
    text = command.help or ""
    if lines and "Example" not in text:
        title = "Example" if len(lines) == 1 else "Examples"
        command.help = f"{text}\n\n\b\n{title}:\n" + "\n".join(f"  {line}" for line in lines)
    if isinstance(command, click.Group):
        for sub_name, sub in command.commands.items():
            attach(f"{name} {sub_name}", sub)
