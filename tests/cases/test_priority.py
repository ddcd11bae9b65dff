from datetime import UTC, datetime, timedelta

from moderation.cases.priority import RETURNING_POINTS, case_priority

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def score(**overrides):
    values = {
        "category": "fraud",
        "source_kinds": {"public"},
        "reporter_count": 1,
        "urgent": False,
        "opened_at": NOW,
        "now": NOW,
    }
    values.update(overrides)
    return case_priority(**values)[0]


def test_it_ranks_severe_categories_above_source_weight():
    assert score(category="child_sexual_abuse") > score(category="fraud", source_kinds={"police"})


def test_it_weighs_police_and_ministry_above_the_public():
    assert score(source_kinds={"police"}) > score(source_kinds={"public"})
    assert score(source_kinds={"ministry"}) > score(source_kinds={"public"})


def test_it_counts_reporters_on_a_log_scale():
    one, two, thousand = (
        score(reporter_count=1),
        score(reporter_count=2),
        score(reporter_count=1000),
    )
    assert one < two < thousand
    assert thousand - one < 100  # a flood cannot swamp the queue


def test_it_lets_old_cases_rise_up_to_a_cap():
    fresh = score()
    week = score(opened_at=NOW - timedelta(days=7))
    year = score(opened_at=NOW - timedelta(days=365))
    month = score(opened_at=NOW - timedelta(days=30))
    assert fresh < week < month
    assert year == month


def test_it_explains_the_score_with_parts_that_add_up():
    total, parts = case_priority(
        category="prostitution",
        source_kinds={"ministry", "public"},
        reporter_count=3,
        urgent=True,
        opened_at=NOW - timedelta(days=1),
        now=NOW,
    )
    assert round(sum(p.points for p in parts), 2) == total
    assert any("urgent" in p.label for p in parts)
    assert parts == sorted(parts, key=lambda p: p.points, reverse=True)


def test_a_returning_account_adds_its_points_with_its_reason():
    total, parts = case_priority(
        category="gambling",
        source_kinds={"public"},
        reporter_count=1,
        urgent=False,
        opened_at=NOW,
        now=NOW,
        returning=True,
    )
    assert total == score(category="gambling") + RETURNING_POINTS
    assert "Returning: matches an account already taken down" in [str(p.label) for p in parts]
    assert round(sum(p.points for p in parts), 2) == total
