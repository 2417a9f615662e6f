"""Experiments (SPEC section 11): runs of the pipeline with changed params, kept as commits
under `refs/gitflowml/exps/<baseline>/<name>` instead of branches.

`overrides` parses `-S` (Hydra's basic grammar) and edits params files; `refs` names and
lists experiments; `save` makes an experiment's commit; `queue` keeps queued, running and
failed entries as plain files; `table` reads many experiments at once for `exp show`;
`worker` runs a queued entry in its own worktree.
"""
