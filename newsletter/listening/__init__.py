"""Listening to families: "Was this newsletter useful?", quick polls, and the comments that come with them.

Counted without tracking anyone. The links in an email carry only the issue (and the answer),
signed, so every reader's copy holds the same links; what is stored is the answer, a hash of a
random value the answering browser keeps in a cookie (so the same browser can change its answer,
which moves the count instead of adding to it), and a comment if one was written. No table here
holds a subscriber, an address, a delivery or an IP address.

`store` is the data access (the only place that queries these tables), `links` makes and reads the
signed links, `comments` checks what a person typed, `polls` says whether a poll is open.
"""
