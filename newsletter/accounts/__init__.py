"""Team accounts: who may compose, approve and send, and proof of who did what."""
