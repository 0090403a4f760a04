"""Pydantic's validation messages in the caller's language, by error type."""
from __future__ import annotations

from flask_babel import gettext as _


def explain(error: dict, where: str = "body") -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in ("too_long", "too_short") and isinstance(error.get("input"), str):
        # A text checked after a validator of ours (schemas.typed_text) is measured as
        # a sequence: its length is still in characters.
        kind = f"string_{kind}"
    if kind == "missing":
        return _("Thiếu trường này.")
    if kind == "extra_forbidden" and where == "query":
        return _("Tham số này không dùng được ở đây.")
    if kind == "extra_forbidden":
        return _("Trường này không được dùng ở đây.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Phải là số nguyên.")
    if kind in ("string_type", "string_unicode"):
        return _("Phải là chuỗi ký tự.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Phải là true hoặc false.")
    if kind in ("list_type",):
        return _("Phải là một danh sách.")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _("Phải là một đối tượng JSON.")
    if kind == "uuid_parsing" or kind == "uuid_type":
        return _("Phải là một UUID, ví dụ 3f1c2a9e-8b7d-4c6e-9a51-2d0f4b7e6c13.")
    if kind == "enum" or kind == "literal_error":
        # Pydantic lists them in English ("'a', 'b' or 'c'"); the list alone is ours.
        choices = str(context.get("expected", "")).replace("' or '", "', '")
        return _("Phải là một trong: %(choices)s.", choices=choices)
    if kind == "string_too_long":
        return _("Dài quá %(limit)s ký tự.", limit=context.get("max_length"))
    if kind == "string_too_short":
        return _("Không được để trống.")
    if kind in ("too_long",):
        return _("Nhiều quá %(limit)s phần tử.", limit=context.get("max_length"))
    if kind in ("too_short",):
        return _("Cần ít nhất %(limit)s phần tử.", limit=context.get("min_length"))
    if kind in ("greater_than_equal", "greater_than"):
        return _("Phải từ %(limit)s trở lên.", limit=context.get("ge", context.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("Phải không quá %(limit)s.", limit=context.get("le", context.get("lt")))
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing",
                "timezone_aware", "datetime_out_of_range"):
        return _("Phải là thời điểm ISO 8601 có múi giờ, ví dụ 2025-06-14T08:05:00+07:00.")
    if kind == "province_unknown":
        return _("Không có tỉnh/thành nào mã «%(code)s» trong danh mục chính thức.",
                 code=context.get("code"))
    if kind == "string_pattern_mismatch":
        return _("Không đúng định dạng.")
    # Any other kind: pydantic's own words are English, whatever the caller reads.
    return _("Giá trị không hợp lệ.")
