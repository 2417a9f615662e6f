"""The typed Python API. The CLI is a thin layer over these functions.

Every function finds the project from the current directory unless `project` is given,
returns plain data and raises `GitflowmlError` subclasses; none of them prints.

The functions live in the modules of this package by topic; this module is the one place
to import them from."""

from __future__ import annotations

from gitflowml.api.data import InitResult, StatusReport, add, checkout, init, status
from gitflowml.api.exps import ExpRunReport, exp_run
from gitflowml.api.exps_queue import ReproFlags, exec_entry, run_queue
from gitflowml.api.exps_share import ShareReport, exp_list, exp_pull, exp_push
from gitflowml.api.exps_view import (
    ApplyReport,
    ShowOptions,
    exp_apply,
    exp_branch,
    exp_diff,
    exp_remove,
    exp_show,
    queue_logs,
    queue_status,
)
from gitflowml.api.history import (
    diff,
    lineage,
    log,
    metrics_diff,
    metrics_env,
    metrics_show,
    open,
    params_diff,
    params_show,
    read,
    record,
)
from gitflowml.api.manage import MoveReport, RemoveReport, commit, move, remove, unprotect
from gitflowml.api.pipeline import Dag, dag, repro
from gitflowml.api.plots import PlotsReport, plots_diff, plots_show, plots_templates
from gitflowml.api.registry import ls
from gitflowml.api.remote import (
    fetch,
    gc,
    pull,
    push,
    remote_add,
    remote_list,
    remote_modify,
    remote_remove,
    unpushed,
)
from gitflowml.api.repo import check_large_files, doctor, import_dvc, install, names
from gitflowml.api.settings import config_get, config_list, config_set, config_unset
from gitflowml.project import Project
from gitflowml.storage.add import AddReport
from gitflowml.storage.checkout import CheckoutReport
from gitflowml.storage.status import DataStatus

__all__ = [
    "AddReport",
    "ApplyReport",
    "CheckoutReport",
    "Dag",
    "DataStatus",
    "ExpRunReport",
    "InitResult",
    "MoveReport",
    "PlotsReport",
    "Project",
    "RemoveReport",
    "ReproFlags",
    "ShareReport",
    "ShowOptions",
    "StatusReport",
    "add",
    "check_large_files",
    "checkout",
    "commit",
    "config_get",
    "config_list",
    "config_set",
    "config_unset",
    "dag",
    "diff",
    "doctor",
    "exec_entry",
    "exp_apply",
    "exp_branch",
    "exp_diff",
    "exp_list",
    "exp_pull",
    "exp_push",
    "exp_remove",
    "exp_run",
    "exp_show",
    "fetch",
    "gc",
    "import_dvc",
    "init",
    "install",
    "lineage",
    "log",
    "ls",
    "metrics_diff",
    "metrics_env",
    "metrics_show",
    "move",
    "names",
    "open",
    "params_diff",
    "params_show",
    "plots_diff",
    "plots_show",
    "plots_templates",
    "pull",
    "push",
    "queue_logs",
    "queue_status",
    "read",
    "record",
    "remote_add",
    "remote_list",
    "remote_modify",
    "remote_remove",
    "remove",
    "repro",
    "run_queue",
    "status",
    "unprotect",
    "unpushed",
]
