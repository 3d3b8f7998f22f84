"""Co-production review: parent-carer reviewers read an unsent issue through a signed link and comment on its blocks."""
