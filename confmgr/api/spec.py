"""API operations declared once: the route, its checks and its OpenAPI entry come from one place.

Each view states its query, body and response models (pydantic). The same models parse the
request, render the response and describe both in the OpenAPI document, so the document
cannot drift from what the code does.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, request
from flask_babel import get_locale, gettext as _
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from confmgr.api.problems import (
    PROBLEM_TYPE,
    ApiProblem,
    FieldError,
    Problem,
    first_errors,
    pointer,
    validation_errors,
)
from confmgr.api.schemas import Page
from confmgr.i18n import N_

#: Every operation may answer these; their meaning is the same everywhere.
COMMON_ERRORS = {
    401: N_("Thiếu token hoặc token không hợp lệ."),
    403: N_("Token không đủ quyền cho việc này."),
    404: N_("Không có (hoặc không được xem) tài nguyên này."),
}
#: The whole API shares its limits (confmgr.security), public operations included; and
#: any answer may be that the database is busy (confmgr.errors).
ERRORS_OF_EVERY_OPERATION = {429: N_("Quá nhiều yêu cầu; đợi số giây trong Retry-After."),
                503: N_("Cơ sở dữ liệu đang bận; đợi số giây trong Retry-After rồi gửi lại.")}
BODY_ERRORS = {400: N_("Thân yêu cầu không phải JSON, lồng nhau quá sâu hoặc có số quá dài."),
               413: N_("Thân yêu cầu quá lớn."),
               422: N_("Dữ liệu không hợp lệ; xem errors.")}
QUERY_ERRORS = {422: N_("Tham số không hợp lệ; xem errors.")}
#: Every GET, and each operation that takes If-Match, may answer this.
STALE_ERRORS = {412: N_("ETag gửi trong If-Match không phải của phiên bản hiện tại: đã có "
                        "người thay đổi tài nguyên này.")}
LINK_HEADER = N_("Địa chỉ trang sau, như trường next (rel=\"next\"); không có ở trang cuối.")
ETAG_HEADER = N_("Phiên bản hiện tại của tài nguyên: gửi lại trong If-None-Match để khỏi "
                 "nhận lại nội dung chưa đổi, hoặc trong If-Match để chỉ sửa khi chưa ai "
                 "sửa trước.")
IF_MATCH_PARAMETER = N_("ETag nhận được khi đọc tài nguyên: nếu sau đó đã có người thay đổi "
                        "nó, yêu cầu bị từ chối (412) thay vì ghi đè lên thay đổi ấy. Không "
                        "gửi thì yêu cầu được thực hiện ngay.")


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    name: str
    summary: str
    tag: str
    #: The answer's model, or a JSON Schema of its own for an answer no model describes.
    response: type[BaseModel] | dict[str, Any]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    status: int = 200
    public: bool = False
    #: Further statuses this operation answers with a problem, and why.
    errors: dict[int, str] = field(default_factory=dict)
    description: str = ""
    #: Headers of its answer, and what each says.
    headers: dict[str, str] = field(default_factory=dict)
    #: The view weighs If-Match against the resource as held for the write
    #: (refuse_unless_current); its answer carries the resource's new ETag.
    if_match: bool = False


class Api:
    """A blueprint whose routes are operations, and the OpenAPI document they make."""

    def __init__(self, name: str, import_name: str, url_prefix: str, *, title: str,
                 version: str, authenticate: Callable[[bool], None]):
        self.blueprint = Blueprint(name, import_name, url_prefix=url_prefix)
        self.url_prefix = url_prefix
        self.title, self.version = title, version
        self.operations: list[Operation] = []
        self._authenticate = authenticate
        self._source: dict[str, Any] | None = None
        self._documents: dict[str, dict[str, Any]] = {}

    def operation(self, method: str, rule: str, *, summary: str, tag: str,
                  response: type[BaseModel] | dict[str, Any], query: type[BaseModel] | None = None,
                  body: type[BaseModel] | None = None, status: int = 200,
                  public: bool = False, errors: dict[int, str] | None = None,
                  description: str = "", headers: dict[str, str] | None = None,
                  if_match: bool = False):
        """``summary``, ``tag``, ``description`` and the reasons in ``errors`` and
        ``headers`` are given in Vietnamese, marked with ``N_``; the document shows them in
        the reader's language."""
        def decorate(view: Callable[..., Any]):
            operation = Operation(method, rule, view.__name__, summary, tag, response, query,
                                  body, status, public, errors or {}, description,
                                  headers or {}, if_match)

            @wraps(view)
            def handle(**path):
                if not public:
                    self._authenticate(method != "GET")
                arguments = dict(path)
                refuse_repeated_parameters()
                if query is not None:
                    arguments["query"] = parse(query, request.args.to_dict(), "query")
                elif request.args:
                    refuse_parameters(list(request.args))
                if body is not None:
                    data = json_body()
                    # A NUL reaches a JSON string only written as \u0000: a body without
                    # one is not walked for it (a large one would cost seconds).
                    arguments["body"] = parse(body, data, "body", may_hold_nul=(
                        b"\\u0000" in request.get_data(cache=True)))
                return respond(view(**arguments), status, tagged=method == "GET" or if_match)

            self.blueprint.add_url_rule(rule, view.__name__, handle, methods=[method])
            self.operations.append(operation)
            return view

        return decorate

    def document(self) -> dict[str, Any]:
        """The OpenAPI document in the request's language."""
        # The operations are all declared at import, so the document is made once, and
        # translated once per language.
        if self._source is None:
            self._source = openapi_document(self)
        language = str(get_locale())
        if language not in self._documents:
            self._documents[language] = translated(self._source)
        return self._documents[language]


#: Where the document holds words for its readers rather than names.
_READ = frozenset({"summary", "description"})


def translated(document: Any, key: str = "") -> Any:
    """A copy of ``document`` with its summaries, descriptions and tags translated. A
    schema property that happens to be called ``description`` is a dict, left alone."""
    if isinstance(document, dict):
        return {name: translated(value, name) for name, value in document.items()}
    if isinstance(document, list):
        return [_(item) if key == "tags" and isinstance(item, str) else translated(item)
                for item in document]
    if isinstance(document, str) and key in _READ and document:
        return _(document)
    return document


#: No member takes a number anywhere near this long; Python itself refuses to read an integer
#: of more than 4,300 digits, which would otherwise pass for a body that is not JSON.
MAX_INTEGER_DIGITS = 1000


class IntegerTooLong(ValueError):
    pass


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise IntegerTooLong(text)
    return int(text)


#: The largest body an operation takes: a batch of 500 check-ins, laid out with
#: indentation, is about 100 KiB. The site's upload limit (tens of MB) is for files.
MAX_BODY_BYTES = 256 * 1024


class _Members(dict):
    """A JSON object that named some of its members more than once."""

    def __init__(self, pairs: list[tuple[str, Any]]):
        super().__init__(pairs)
        seen: set[str] = set()
        repeated: dict[str, None] = {}
        for name, _value in pairs:
            if name in seen:
                repeated[name] = None
            seen.add(name)
        self.repeated = list(repeated)


def json_body() -> Any:
    not_json = _("Thân yêu cầu phải là JSON (Content-Type: application/json).")
    if not request.is_json:
        raise ApiProblem(400, not_json)
    # Read up to this limit only; past it Werkzeug answers 413 (errors.py).
    request.max_content_length = MAX_BODY_BYTES
    repeating = False

    def members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeating
        found = dict(pairs)
        if len(found) == len(pairs):
            return found
        repeating = True
        return _Members(pairs)

    try:
        # json.loads would keep a repeated member's last value, silently.
        data = json.loads(request.get_data(cache=True), parse_int=_integer,
                          object_pairs_hook=members)
    except RecursionError:
        # The parser recurses once per level of nesting; no operation takes more than a few.
        raise ApiProblem(400, _("Thân yêu cầu lồng nhau quá sâu.")) from None
    except IntegerTooLong:
        raise ApiProblem(400, _("Thân yêu cầu có một số nguyên dài quá %(limit)s chữ số.",
                                limit=MAX_INTEGER_DIGITS)) from None
    except ValueError:  # not JSON, or not UTF-8
        raise ApiProblem(400, not_json) from None
    if repeating:
        raise ApiProblem(422, _("Dữ liệu gửi lên không hợp lệ."), first_errors([
            FieldError(detail=_("Trường này chỉ được gửi một lần."),
                       pointer=_pointer_of((path, name)))
            for value, path in _walk(data) if isinstance(value, _Members)
            for name in value.repeated]))
    return data


def refuse_parameters(names: list[str]) -> None:
    raise ApiProblem(422, _("Dữ liệu gửi lên không hợp lệ."), [
        FieldError(detail=_("Tham số này không dùng được ở đây."), parameter=name)
        for name in names])


def refuse_repeated_parameters() -> None:
    """Every parameter takes one value: a second one is refused, not silently dropped."""
    repeated = [name for name, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise ApiProblem(422, _("Dữ liệu gửi lên không hợp lệ."), [
            FieldError(detail=_("Tham số này chỉ được gửi một lần."), parameter=name)
            for name in repeated])


def _walk(data: Any) -> Iterator[tuple[Any, tuple | None]]:
    """Every value in ``data``, in the body's order, with its path: a chain (parent path,
    key) that ends in None, for _pointer_of.

    A walk with a stack of its own, not recursion: a body nested a few hundred levels deep
    would exhaust Python's stack. Each entry keeps its parent's path rather than a pointer
    of its own, so a deep body costs no more than a wide one.
    """
    waiting: list[tuple[Any, tuple | None]] = [(data, None)]
    while waiting:
        value, path = waiting.pop()
        yield value, path
        if isinstance(value, dict):
            # Reversed, so that members come off the stack in the body's order.
            waiting.extend((item, (path, key)) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            waiting.extend((item, (path, index))
                           for index, item in reversed(list(enumerate(value))))


def _nul_bytes(data: Any) -> list[str]:
    """Pointers to every string holding a NUL, which no database column can store."""
    return [_pointer_of(path) for value, path in _walk(data)
            if isinstance(value, str) and "\x00" in value]


def _pointer_of(path: tuple | None) -> str:
    keys = []
    while path is not None:
        path, key = path
        keys.append(key)
    return pointer(tuple(reversed(keys)))


def parse(model: type[BaseModel], data: Any, where: str, *,
          may_hold_nul: bool = True) -> BaseModel:
    holding_nul = _nul_bytes(data) if may_hold_nul else []
    if holding_nul:
        detail = _("Có ký tự NUL (mã 0), không lưu được.")
        raise ApiProblem(422, _("Dữ liệu gửi lên không hợp lệ."), first_errors([
            FieldError(detail=detail, parameter=found.lstrip("/")) if where == "query"
            else FieldError(detail=detail, pointer=found) for found in holding_nul]))
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiProblem(422, _("Dữ liệu gửi lên không hợp lệ."),
                         validation_errors(error, where)) from None


def respond(result: Any, status: int, *, tagged: bool = False) -> Response:
    """The view's model as JSON; a ``tagged`` answer (a GET's, a PATCH's, which show the
    resource as it now is) carries its ETag, and a GET's (or HEAD's) may be a 304."""
    headers: dict[str, str] = {}
    if isinstance(result, tuple):
        result, headers = result
    if isinstance(result, Response):
        return result
    body = result.model_dump_json()
    response = Response(body, status=status, content_type="application/json")
    response.headers.update(headers)
    if isinstance(result, Page) and result.next:
        response.headers["Link"] = f'<{result.next}>; rel="next"'  # RFC 8288
    if tagged:
        response.set_etag(_digest(body))
    if request.method in ("GET", "HEAD"):
        response.cache_control.private = True
        response.cache_control.no_cache = True
        conditional(response)
    return response


def _digest(body: str) -> str:
    # The body says everything the caller sees, so its digest is a strong validator.
    return hashlib.blake2s(body.encode(), digest_size=12).hexdigest()


def etag_of(result: BaseModel) -> str:
    """The ETag of an answer showing ``result``."""
    return _digest(result.model_dump_json())


def refuse_unless_current(etag: str) -> None:
    """Refuse a request whose If-Match names another version than ``etag`` (RFC 9110
    13.1.1, by strong comparison; "*" names any): the caller read the resource before
    someone else changed it, and a write would undo that change unseen."""
    if request.if_match and not request.if_match.contains(etag):
        raise ApiProblem(412, _("Đã có người khác thay đổi mục này từ lần bạn đọc; hãy lấy "
                                "lại bản mới rồi thử lại."))


def conditional(response: Response) -> Response:
    """A GET's answer as its conditions make it (RFC 9110 13.2.2): a problem when If-Match
    names another ETag, a 304 when If-None-Match names this one. Not werkzeug's
    make_conditional: it sends the resource itself under its 412, and refuses
    If-Match: * as well."""
    etag, _weak = response.get_etag()
    refuse_unless_current(etag)
    # Weak comparison (RFC 9110 13.1.2): a proxy that compressed the body sends W/"…".
    if request.if_none_match.contains_weak(etag):
        response.status_code = 304
    return response


def caller():
    """The user the request's token speaks for (set by the API's authentication)."""
    return g.api_user


# ---------------------------------------------------------------- the OpenAPI document

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for converter, name in _CONVERTER.findall(rule):
        schema = ({"type": "integer", "minimum": 0, "maximum": 999_999_999}
                  if converter == "int" else {"type": "string"})
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule), parameters


def _problem_responses(errors: dict[int, str]) -> dict[str, Any]:
    return {
        str(status): {"description": reason, "content": {
            PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for status, reason in sorted(errors.items())
    }


def openapi_document(api: Api) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], str]] = [(Problem, "serialization")]
    for op in api.operations:
        if not isinstance(op.response, dict):
            models.append((op.response, "serialization"))
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.query is not None:
            models.append((op.query, "validation"))
    refs, definitions = models_json_schema(
        list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}")
    schemas = definitions.get("$defs", {})

    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        path, parameters = _path(op.rule)
        if op.query is not None:
            query_schema = schemas[refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[1]]
            required = set(query_schema.get("required", []))
            for name, schema in query_schema["properties"].items():
                schema = {k: v for k, v in schema.items() if k != "title"}
                if "anyOf" in schema:  # a query string cannot say null: the parameter is absent
                    options = [s for s in schema.pop("anyOf") if s.get("type") != "null"]
                    schema = {**options[0], **schema} if len(options) == 1 else {
                        "anyOf": options, **schema}
                    schema.pop("default", None)
                parameters.append({"name": name, "in": "query", "required": name in required,
                                   "description": schema.pop("description", ""),
                                   "schema": schema})
        if op.if_match:
            parameters.append({"name": "If-Match", "in": "header", "required": False,
                               "description": IF_MATCH_PARAMETER,
                               "schema": {"type": "string"}})
        errors = {**op.errors, **ERRORS_OF_EVERY_OPERATION}
        if op.method == "GET" or op.if_match:
            errors.update(STALE_ERRORS)
        if not op.public:
            errors.update(COMMON_ERRORS)
        if op.body is not None:
            errors.update(BODY_ERRORS)
        errors.update(QUERY_ERRORS)  # parameters the operation does not take are refused
        schema = (op.response if isinstance(op.response, dict)
                  else refs[(op.response, "serialization")])
        responses: dict[str, Any] = {str(op.status): {
            "description": N_("Xong."), "content": {"application/json": {"schema": schema}}}}
        headers = dict(op.headers)
        if op.method == "GET" or op.if_match:
            headers["ETag"] = ETAG_HEADER
        if isinstance(op.response, type) and issubclass(op.response, Page):
            headers["Link"] = LINK_HEADER
        if headers:
            responses[str(op.status)]["headers"] = {
                name: {"description": said, "schema": {"type": "string"}}
                for name, said in headers.items()}
        if op.method == "GET":
            responses["304"] = {
                "description": N_("Không đổi so với ETag gửi trong If-None-Match.")}
        responses.update(_problem_responses(errors))
        entry: dict[str, Any] = {
            "operationId": op.name, "summary": op.summary, "tags": [op.tag],
            "parameters": parameters, "responses": responses,
        }
        if op.description:
            entry["description"] = op.description
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": refs[(op.body, "validation")]}}}
        if op.public:
            entry["security"] = []
        paths.setdefault(path, {})[op.method.lower()] = entry

    for op in api.operations:  # query models became parameters, not schemas
        if op.query is not None:
            schemas.pop(refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[1], None)
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version},
        "servers": [{"url": api.url_prefix}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": N_("Token cá nhân, tạo ở trang Tài khoản → Token API.")}},
        },
    }
