"""Human names for the audit trail's actions, grouped as the filter offers them."""
from flask_babel import lazy_gettext as _l

#: Every action the code records (a test checks each ``record("...")`` call has a label),
#: by area, in the order the filter lists them.
ACTION_GROUPS = (
    (_l("Hội nghị, chương trình"), {
        "conference.create": _l("Tạo hội nghị"),
        "conference.update": _l("Sửa thông tin hội nghị"),
        "session.create": _l("Thêm phiên"),
        "session.update": _l("Sửa phiên"),
        "session.shift": _l("Dời phiên"),
        "session.cancel": _l("Hủy phiên"),
        "session.reinstate": _l("Khôi phục phiên"),
        "session.delete": _l("Xóa phiên"),
        "topic.create": _l("Thêm chuyên đề"),
        "topic.update": _l("Sửa chuyên đề"),
        "material.add": _l("Thêm tài liệu"),
        "material.remove": _l("Gỡ tài liệu"),
        "presenter.create": _l("Thêm báo cáo viên"),
        "presenter.update": _l("Sửa báo cáo viên"),
        "room.save": _l("Lưu phòng"),
        "agenda.import": _l("Nhập chương trình từ tệp lịch"),
        "agenda.publish": _l("Công bố chương trình"),
        "feed.rotate": _l("Đổi địa chỉ lịch riêng"),
        "demo.load": _l("Nạp hội nghị mẫu"),
    }),
    (_l("Điểm cầu"), {
        "points.create_official": _l("Tạo điểm cầu theo danh mục chính thức"),
        "points.import": _l("Nhập danh sách điểm cầu"),
        "point.update": _l("Sửa thông tin điểm cầu"),
        "connection_slot.create": _l("Thêm lịch chạy thử"),
        "connection_test.record": _l("Ghi kết quả chạy thử"),
    }),
    (_l("Đại biểu, điểm danh"), {
        "category.create": _l("Thêm thành phần"),
        "category.require": _l("Đặt số lượng thành phần cần có"),
        "participant.register": _l("Đăng ký đại biểu"),
        "participant.update": _l("Sửa thông tin đại biểu"),
        "participant.withdraw": _l("Rút tên đại biểu"),
        "participant.move": _l("Chuyển đại biểu sang điểm cầu khác"),
        "participant.import": _l("Nhập danh sách đại biểu"),
        "attendance.import": _l("Nhập danh sách điểm danh giấy"),
    }),
    (_l("Hỏi đáp"), {
        "question.raise": _l("Gửi câu hỏi"),
        "question.edit": _l("Biên tập câu hỏi"),
        "question.assign": _l("Giao câu hỏi"),
        "question.answer": _l("Trả lời câu hỏi"),
        "question.merge": _l("Gộp câu hỏi trùng"),
        "question.split": _l("Tách câu hỏi đã gộp"),
        "question.publish": _l("Công bố câu hỏi"),
        "question.unpublish": _l("Thôi công bố câu hỏi"),
    }),
    (_l("Tài khoản"), {
        "user.create": _l("Tạo tài khoản"),
        "user.login": _l("Đăng nhập"),
        "user.login_failed": _l("Đăng nhập không thành công"),
        "user.login_locked": _l("Tạm khóa đăng nhập sau nhiều lần sai"),
        "user.password_change": _l("Đổi mật khẩu"),
        "user.password_change_failed": _l("Đổi mật khẩu không thành công"),
        "user.password_reset": _l("Đặt lại mật khẩu"),
        "user.deactivate": _l("Khóa tài khoản"),
        "user.reactivate": _l("Mở lại tài khoản"),
        "coordinator.create": _l("Tạo tài khoản điều phối viên"),
        "coordinator.create_many": _l("Tạo hàng loạt tài khoản điều phối viên"),
        "presenter.account": _l("Tạo tài khoản báo cáo viên"),
        "api_token.issue": _l("Cấp token API"),
        "api_token.revoke": _l("Thu hồi token API"),
    }),
)

ACTION_LABELS = {action: label for _group, actions in ACTION_GROUPS
                 for action, label in actions.items()}

#: Actions whose details are {field: [before, after]}: shown as "before → after".
CHANGE_ACTIONS = frozenset({"conference.update", "session.update"})
