"""The SMS channel's own rules: how carriers count a text's length, and how to shorten one."""
