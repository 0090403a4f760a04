"""One error format for the whole API: problem details (RFC 9457), as application/problem+json."""
from __future__ import annotations

from http import HTTPStatus

from flask import Response, request
from pydantic import BaseModel, ConfigDict, ValidationError

from confmgr.i18n import N_

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


def _pointer(location: tuple) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def validation_errors(error: ValidationError, where: str) -> list[FieldError]:
    """Pydantic's complaints, each at its pointer (body) or parameter (query), translated."""
    from confmgr.api.messages import explain

    found = []
    for item in error.errors(include_url=False):
        location = tuple(item["loc"])
        if where == "query":
            found.append(FieldError(detail=explain(item, where), parameter=str(location[0]) if location
                                    else None))
        else:
            found.append(FieldError(detail=explain(item, where), pointer=_pointer(location)))
    return found
