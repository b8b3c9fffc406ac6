"""The SMS channel: the webhook form, keywords, signatures, opt-outs, delivery states, length.

``form``, ``keywords``, ``signature``, ``segments`` are pure; ``overflow`` shortens a reply
too long for SMS; ``optout`` and ``delivery`` are the two small pieces of state the channel
keeps; ``pipeline`` is the SMS entry of the inbound pipeline.
"""
