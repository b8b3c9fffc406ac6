"""Reading hosted mailboxes over IMAP: configuration, credentials, the poller and listener."""
