"""Lists, subscribers, their consent and their choices; `newsletter/` asks it who may receive an issue.

    models.py       the rows: lists, subscribers, subscriptions, consent_log, suppressions
    store.py        data access (every query on those tables, except the bulk paths below)
    emails.py       one normal form and a one-way hash for every address
    links.py        signed personal links and the mailto unsubscribe address
    membership.py   joining and leaving a list, each change with its consent line
    signup.py       the public form and double opt-in
    preferences.py  the preference centre: choices, name, my data
    unsubscribe.py  one-click (RFC 8058), the unsubscribe page, mailto from a maildir
    erasure.py      erase a person; purge requests nobody confirmed
    team.py         what the team does by hand (add, remove)
    csv_import.py   streaming CSV import; csv_export.py and csvsafe.py for export
    bulk_sql.py     the generic bulk layer: inserts that ignore conflicts, ids in chunks, the SQLite write lock
    import_reports.py  finished imports' reports and problems files, kept a day for the person who ran them
    notify.py       the confirmation and "your link" emails, sent through the transport it is handed (mailer.py)
    background.py   "email me a new link" handled off the request path
    api.py          everything newsletter/ may use: who may be mailed, links, bounces, the public and team pages
    cli.py          the `lists` and `subscribers` commands

The public pages are newsletter/web/subscriptions.py; this package imports nothing from newsletter.web
or newsletter.delivery (tests/test_architecture.py keeps it so).
"""
