"""`newsletter doctor`: checks an installation as it is configured and says what to do about each finding.

One small module per area, each check a function from the settings to a list of `Finding`s, so each
can be tested alone against a real database, Redis, Celery worker or SMTP server:

    findings.py     Finding (level, check, message)
    settings.py     the secret key; BASE_URL https on a public address
    database.py     the database answers; its migrations are current
    workers.py      Redis answers; a Celery worker answers a ping; the scheduler's last tick
    smtp.py         each SMTP server: EHLO, STARTTLS or TLS, authentication (no message is sent)
    mail_dns.py     the DKIM key and its DNS record; SPF and DMARC for the From domain; bulk-sender rules
    theme.py        no example details left in the theme's footer
    disk.py         room for media, the outbox and the SQLite database
    runner.py       every check in order; one check failing unexpectedly is a finding, not a crash
"""
