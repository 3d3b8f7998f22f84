"""Counting without tracking: clicks on an issue's links and visits to its web view, as numbers only,
and the report of a campaign.

Commercial senders count opens with a pixel and clicks with a link per reader. On a list that says a
household has a disabled child, that record of who read what should not exist, so here it cannot be
made: a click goes through a redirect whose address is the same in every reader's copy, and what is
stored is a number per issue and link (`models.py`). Nothing holds a subscriber, an address, a
delivery or an IP address next to a count.
"""
