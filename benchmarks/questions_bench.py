"""20,000 questions on the points of the preset's generated conference, for the triage page.

The conference's eight topics; the questions are made of realistic parts so that searching finds some and
not others; a quarter are duplicates merged into an earlier question of the same topic,
and the rest are spread over the statuses as a day of triage leaves them.
"""
from __future__ import annotations

import random

QUESTIONS = 20_000
SUBJECTS = ("việc phân công cấp ủy viên phụ trách chi bộ", "thủ tục chuyển sinh hoạt đảng",
            "chế độ phụ cấp cán bộ không chuyên trách", "việc kiện toàn ủy ban kiểm tra",
            "quy trình kết nạp đảng viên", "việc sáp nhập thôn, tổ dân phố",
            "hồ sơ đảng viên sau sắp xếp", "nhiệm vụ của Mặt trận Tổ quốc cấp xã",
            "việc bố trí bí thư chi bộ kiêm trưởng thôn", "công tác giám sát chuyên đề",
            "việc lấy phiếu tín nhiệm", "chế độ báo cáo định kỳ của đảng ủy xã")
CONTEXTS = ("sau khi hợp nhất xã", "ở xã miền núi", "ở phường đô thị", "khi đảng viên đi làm ăn xa",
            "trong năm đầu vận hành chính quyền hai cấp", "ở chi bộ có dưới ba đảng viên",
            "khi thôn có đông đồng bào dân tộc thiểu số", "ở đặc khu")
ASKS = ("được thực hiện như thế nào?", "cần căn cứ văn bản nào?", "có bắt buộc không?",
        "đề nghị hướng dẫn cụ thể.", "xử lý ra sao khi chưa có hướng dẫn?",
        "thẩm quyền quyết định thuộc cấp nào?")


def build_questions(slug: str) -> None:
    from sqlalchemy import func, select

    from confmgr.conferences.models import Conference, Topic
    from confmgr.db import bulk_insert, db, utcnow
    from confmgr.enums import QuestionStatus
    from confmgr.points.models import BroadcastPoint
    from confmgr.questions.models import Question
    from confmgr.text import fold

    conference = db.session.scalar(select(Conference).where(Conference.slug == slug))
    if db.session.scalar(select(func.count()).select_from(Question).where(
            Question.conference_id == conference.id)):
        return
    topics = db.session.scalars(select(Topic).where(Topic.conference_id == conference.id)
                                .order_by(Topic.number)).all()
    point_ids = db.session.scalars(select(BroadcastPoint.id).where(
        BroadcastPoint.conference_id == conference.id)).all()
    rng = random.Random("questions-20k")
    now = utcnow()
    statuses = ([QuestionStatus.NEW] * 6 + [QuestionStatus.ASSIGNED] * 2
                + [QuestionStatus.ANSWERED, QuestionStatus.PUBLISHED])
    first_id = (db.session.scalar(select(func.max(Question.id))) or 0) + 1
    rows, standing_by_topic = [], {}
    for index in range(QUESTIONS):
        topic = rng.choice(topics) if rng.random() < 0.9 else None
        body = (f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(CONTEXTS)} "
                f"{rng.choice(ASKS)}")
        key = topic.id if topic else None
        earlier = standing_by_topic.get(key, [])
        merged_into = rng.choice(earlier) if earlier and rng.random() < 0.25 else None
        status = rng.choice(statuses)
        answered = status in (QuestionStatus.ANSWERED, QuestionStatus.PUBLISHED)
        rows.append({
            "id": first_id + index, "conference_id": conference.id,
            "topic_id": key, "point_id": rng.choice(point_ids), "body": body,
            "search_text": fold(body), "asker_name": "", "asker_position": "",
            "raised_at": now, "status": status, "merged_into_id": merged_into,
            "points_count": 1, "answer": "Trả lời mẫu." if answered else "",
            "answered_at": now if answered else None,
            "published_at": now if status == QuestionStatus.PUBLISHED else None,
            "updated_at": now})
        if merged_into is None:
            standing_by_topic.setdefault(key, []).append(first_id + index)
    # Each question's count of distinct asking points, as merging keeps it.
    points: dict[int, set[int]] = {}
    for row in rows:
        points.setdefault(row["merged_into_id"] or row["id"], set()).add(row["point_id"])
    for row in rows:
        if row["merged_into_id"] is None:
            row["points_count"] = len(points[row["id"]])
    bulk_insert(Question.__table__, rows)
    db.session.commit()
