"""`python -m newsletter.cli`, the same as the installed `newsletter` command."""

from newsletter.cli import main

main()
