"""One error format for the whole API: problem details (RFC 9457), as application/problem+json."""
from __future__ import annotations

import re
from http import HTTPStatus

from flask import Response, request
from pydantic import BaseModel, ConfigDict, ValidationError

from confmgr.i18n import N_, counted

PROBLEM_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One thing wrong with the request, and where: a body member or a query parameter."""

    model_config = ConfigDict(json_schema_extra={"description": N_(
        "Một chỗ sai của yêu cầu và nơi sai: một trường trong thân yêu cầu hoặc một "
        "tham số.")})

    detail: str
    #: A JSON pointer (RFC 6901) into the request body, such as ``/checkins/0/session_id``.
    pointer: str | None = None
    #: The query parameter at fault.
    parameter: str | None = None


class Problem(BaseModel):
    type: str = "about:blank"
    #: The HTTP status phrase; ``detail`` says what happened, in the caller's language.
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] = []


class ApiProblem(Exception):
    """Raised anywhere below an API view to answer with a problem."""

    def __init__(self, status: int, detail: str, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(status: int, detail: str, errors: list[FieldError] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail,
                   instance=request.path, errors=errors or [])
    response = Response(body.model_dump_json(exclude_none=True), status=status,
                        content_type=PROBLEM_TYPE)
    response.headers.update(headers or {})
    return response


def pointer(location: tuple) -> str:
    """A JSON pointer (RFC 6901) to a member or item of the body."""
    return "".join("/" + _readable(str(part)).replace("~", "~0").replace("/", "~1")
                   for part in location)


def _readable(name: str) -> str:
    """A member's name as UTF-8 can carry it: JSON may escape a lone surrogate ("\\ud800"),
    which no answer could hold (it stands as U+FFFD)."""
    return _SURROGATE.sub("\ufffd", name)


_SURROGATE = re.compile("[\ud800-\udfff]")


#: The most errors one answer lists: a body of a hundred thousand unknown members is told
#: of its first ones, in an answer of a few kilobytes.
MAX_ERRORS = 100


def validation_errors(error: ValidationError, where: str) -> list[FieldError]:
    """Pydantic's complaints, each at its pointer (body) or parameter (query), translated;
    the first ``MAX_ERRORS`` of them, then one that counts the rest."""
    from confmgr.api.messages import explain

    found = []
    items = error.errors(include_url=False)
    for item in items[:MAX_ERRORS]:
        location = tuple(item["loc"])
        if where == "query":
            found.append(FieldError(detail=explain(item, where), parameter=str(location[0]) if location
                                    else None))
        else:
            found.append(FieldError(detail=explain(item, where), pointer=pointer(location)))
    return found + _more(len(items) - MAX_ERRORS)


def first_errors(errors: list[FieldError]) -> list[FieldError]:
    """The first ``MAX_ERRORS`` of ``errors``, then one that counts the rest."""
    return errors[:MAX_ERRORS] + _more(len(errors) - MAX_ERRORS)


def _more(count: int) -> list[FieldError]:
    if count <= 0:
        return []
    return [FieldError(detail=counted("Còn %(count)d lỗi nữa không liệt kê.", count),
                       pointer="")]
