"""Imports every model module so `Base.metadata` knows the whole schema (for Alembic and tests)."""


def load_all() -> None:
    import newsletter.accounts.models  # noqa: F401
    import newsletter.issues.models  # noqa: F401
    import newsletter.review.models  # noqa: F401
    import subscribers.api  # noqa: F401  (its models: lists, subscribers, consent, suppressions)
    import newsletter.delivery.models  # noqa: F401
    import newsletter.counts.models  # noqa: F401  (link_counts, web_view_counts: numbers only)
    import newsletter.delivery.heartbeat  # noqa: F401  (heartbeats: when the scheduler last ticked)
    import newsletter.theme  # noqa: F401  (theme_settings: the composer's changes to the theme)
    import newsletter.maintenance  # noqa: F401  (maintenance_runs: when the retention jobs last ran)
    import newsletter.listening.models  # noqa: F401  (feedback and poll answers, readers' comments)
