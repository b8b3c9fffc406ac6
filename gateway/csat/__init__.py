"""Customer satisfaction: a 1-5 rating asked for once, when a ticket is first resolved.

``answer`` reads a reply ("4", "5 thanks!"), ``links`` signs and reads the rating links of
``PUBLIC_URL``, ``survey`` asks and records (the first answer wins).
"""
