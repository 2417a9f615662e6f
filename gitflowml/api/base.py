"""What every part of the API shares."""

from __future__ import annotations

from gitflowml.project import Project


def _project(project: Project | None) -> Project:
    return project if project is not None else Project.find()
