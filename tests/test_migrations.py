"""The schema is only ever changed by migrations, and they match the models exactly."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from confmgr.db import db
from confmgr.text import name_compare_form



def demo_at_revision(revision: str) -> None:
    """The demo loaded, then the schema taken back down to ``revision``."""
    from confmgr.demo.loader import load_demo

    load_demo()
    db.session.commit()
    db.session.remove()
    downgrade(revision=revision)

def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_from_empty_gives_exactly_the_models_schema(ctx):
    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}
    upgrade()
    assert table_names() == {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
    assert schema_differences() == []


def test_downgrade_then_upgrade_again(ctx):
    downgrade(revision="base")
    upgrade()
    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}
    upgrade()
    assert schema_differences() == []


def test_check_constraints_allow_every_value_of_every_enum(ctx):
    """Autogenerate does not compare CHECKs: a value added to an enum needs its migration."""
    from sqlalchemy import Enum

    inspector = inspect(db.engine)
    checked = 0
    for table in db.metadata.sorted_tables:
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        for column in table.columns:
            if isinstance(column.type, Enum):
                sql = checks[f"ck_{table.name}_{column.type.name}"]
                for value in column.type.enums:
                    assert f"'{value}'" in sql, (table.name, column.name, value)
                checked += 1
    assert checked >= 10


KEPT_TABLES = ("conferences", "broadcast_points", "participants", "agenda_sessions", "topics",
               "presenters", "conference_organisers", "point_coordinators", "attendance",
               "audit_log")


def row_counts() -> dict[str, int]:
    from sqlalchemy import text

    with db.engine.connect() as connection:
        return {name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in KEPT_TABLES}


def test_migrations_keep_the_rows_of_the_tables_they_alter(ctx):
    """On SQLite an altered table is copied and dropped: nothing that refers to it may be
    deleted on the way (foreign keys cascade on a drop)."""
    from confmgr.demo.loader import load_demo

    load_demo()
    db.session.remove()
    before = row_counts()
    assert min(before.values()) > 0
    # Back to before the attendance counters: conferences, users and attendance are altered.
    downgrade(revision="87684cd60cc1")
    assert row_counts() == before
    upgrade()
    assert row_counts() == before


def test_existing_users_get_their_search_text(ctx):
    """Users made before the column existed are found by the folded search at once."""
    from sqlalchemy import text

    demo_at_revision("ea04872b2d73")
    upgrade()
    with db.engine.connect() as connection:
        found = connection.execute(text(
            "SELECT search_text FROM users WHERE email = 'quangninh@example.org'")).scalar_one()
    assert found == "quangninh@example.org dieu phoi diem cau quang ninh"


def test_existing_delegates_get_the_tone_placed_compare_form(ctx):
    """Delegates registered before names compared with the tone on the last vowel are
    found as duplicates of the other spelling at once."""
    from sqlalchemy import text

    demo_at_revision("7c2e4b9d1a05")
    with db.engine.begin() as connection:
        first = connection.execute(text("SELECT min(id) FROM participants")).scalar_one()
        connection.execute(text("UPDATE participants SET full_name = 'Trần Thị Thủy', "
                                "name_norm = 'trần thị thủy' WHERE id = :id"), {"id": first})
        untouched = dict(connection.execute(text(
            "SELECT id, name_norm FROM participants WHERE id <> :id"), {"id": first}).all())
    upgrade()
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name_norm FROM participants WHERE id = :id"),
                                  {"id": first}).scalar_one() == "trần thị thuỷ"
        assert dict(connection.execute(text(
            "SELECT id, name_norm FROM participants WHERE id <> :id"), {"id": first}).all()
        ) == {id_: name_compare_form(norm) for id_, norm in untouched.items()}
    downgrade(revision="7c2e4b9d1a05")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name_norm FROM participants WHERE id = :id"),
                                  {"id": first}).scalar_one() == "trần thị thủy"
    upgrade()


def test_existing_delegates_sort_with_each_words_tone_on_its_last_vowel(ctx):
    """Keys made before the tone was read on the last vowel ("Hòa" after "Hoá") are made
    again; "Hòa" then sorts as "Hoà" does."""
    from sqlalchemy import text

    from confmgr.roster.sorting import name_key

    demo_at_revision("2d8b6f0c3e51")
    with db.engine.begin() as connection:
        first = connection.execute(text("SELECT min(id) FROM participants")).scalar_one()
        connection.execute(text("UPDATE participants SET full_name = 'Nguyễn Văn Hòa', "
                                "name_key = :stale WHERE id = :id"),
                           {"id": first, "stale": b"\x00"})
    upgrade()
    with db.engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT id, name_key FROM participants")).all())
        names = dict(connection.execute(text("SELECT id, full_name FROM participants")).all())
    assert bytes(keys[first]) == name_key("Nguyễn Văn Hoà")
    assert {id_: bytes(key) for id_, key in keys.items()} == {
        id_: name_key(name) for id_, name in names.items()}


def test_an_owners_extra_active_feed_addresses_are_revoked_before_the_unique_index(ctx):
    """Two first visits at once could each issue an address: the oldest, the one the page
    showed from then on, stays; the others are revoked, so the index can be made."""
    from sqlalchemy import text

    demo_at_revision("b6f1a9d3e247")
    with db.engine.begin() as connection:
        conference, point = connection.execute(text(
            "SELECT conference_id, id FROM broadcast_points ORDER BY id LIMIT 1")).one()
        user = connection.execute(text("SELECT min(id) FROM users")).scalar_one()
        connection.execute(text("DELETE FROM feed_tokens"))
        for token, kind, user_id, point_id, revoked in (
                ("p1" * 20, "point", None, point, False), ("p2" * 20, "point", None, point, False),
                ("p3" * 20, "point", None, point, False),
                ("c1" * 20, "conference", user, None, False),
                ("h1" * 20, "chosen", user, None, False), ("r1" * 20, "point", None, point, True)):
            connection.execute(text(
                "INSERT INTO feed_tokens (token, kind, conference_id, user_id, point_id,"
                " created_at, revoked_at) VALUES (:token, :kind, :conference, :user_id,"
                f" :point_id, CURRENT_TIMESTAMP, {'CURRENT_TIMESTAMP' if revoked else 'NULL'})"),
                {"token": token, "kind": kind, "conference": conference, "user_id": user_id,
                 "point_id": point_id})
    upgrade()
    with db.engine.connect() as connection:
        active = connection.execute(text(
            "SELECT token FROM feed_tokens WHERE revoked_at IS NULL ORDER BY id")).scalars().all()
    assert active == ["p1" * 20, "c1" * 20, "h1" * 20]
    assert schema_differences() == []


def test_names_with_a_typographic_apostrophe_compare_as_with_a_straight_one_once_upgraded(ctx):
    """The compare form of a name stored with ’ is made again; the name is kept as typed."""
    from sqlalchemy import text

    demo_at_revision("e2b7c5d8a413")
    with db.engine.begin() as connection:
        first = connection.execute(text("SELECT min(id) FROM participants")).scalar_one()
        connection.execute(text("UPDATE participants SET full_name = :name, name_norm = :norm "
                                "WHERE id = :id"),
                           {"name": "H\u2019Hen Niê", "norm": "h\u2019hen niê", "id": first})
    upgrade()
    with db.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT full_name, name_norm FROM participants WHERE id = :id"), {"id": first}
        ).one() == ("H\u2019Hen Niê", "h'hen niê")
    assert schema_differences() == []
