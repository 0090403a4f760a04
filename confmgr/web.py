"""Small helpers every area's views share."""
from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm


def show_problems(form: FlaskForm, problems) -> None:
    """Put each problem on its field; problems without a field become a flash message."""
    for problem in problems:
        target = getattr(form, problem.field, None) if problem.field else None
        if target is not None and hasattr(target, "errors"):
            if isinstance(target.errors, tuple):
                target.errors = list(target.errors)
            target.errors.append(problem.message)
        else:
            flash(problem.message, "danger")
