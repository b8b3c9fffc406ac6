"""visible_text() on conversations as the common mail clients write them.

Each case states what the agent or customer should see of a reply. Real-world fixtures from
other projects are in test_quotes_corpora.py.
"""

from __future__ import annotations

import time

import html2text
import pytest

from gateway.mail.quotes import REPLY_MARKER, visible_text

NOTIFICATION = f"""{REPLY_MARKER}

Ticket #4711 was updated by Dana (support):

Please restart the router and tell us if the light turns green.

View the ticket: https://help.example.com/t/4711
"""


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


# ---- our own marker ------------------------------------------------------------------------


def test_marker_in_quoted_plain_text_cuts_it_and_the_attribution() -> None:
    reply = (
        "The light is green now, thanks!\n\n"
        "On Mon, 3 Jun 2024 at 09:12, Example Support <help@example.com> wrote:\n\n"
        + _quoted(NOTIFICATION)
    )
    assert visible_text(reply) == "The light is green now, thanks!"


def test_marker_pasted_unquoted_below_an_unknown_attribution() -> None:
    reply = (
        "Still red.\n\n"
        "Example Support <help@example.com> hat am 03.06.2024 10:12 geantwortet:\n" + NOTIFICATION
    )
    assert visible_text(reply) == "Still red."


def test_marker_inside_html_quote_structure_we_do_not_know() -> None:
    html = (
        "<div>Green now.</div><div>Sent via FancyMail, 3 Jun 2024 09:12:</div>"
        f"<div style='color:#999'><p>{REPLY_MARKER}</p><p>Ticket #4711 was updated</p></div>"
    )
    assert visible_text(html2text.html2text(html), html) == "Green now."


def test_marker_survives_html2text_escaping() -> None:
    html = f"<p>Works, thanks.</p><p>{REPLY_MARKER}</p><p>Ticket #4711 was updated</p>"
    assert visible_text(html2text.html2text(html)) == "Works, thanks."


# ---- plain text: attributions and quotes ---------------------------------------------------


def test_gmail_top_post() -> None:
    reply = (
        "Yes, Tuesday works for me.\n\n"
        "On Mon, Jun 3, 2024 at 9:12 AM Dana Example <dana@example.com> wrote:\n\n"
        "> Could we move the call to Tuesday?\n>\n> Dana\n"
    )
    assert visible_text(reply) == "Yes, Tuesday works for me."


def test_attribution_wrapped_over_two_lines() -> None:
    reply = (
        "Done.\n\nOn Mon, Jun 3, 2024 at 9:12 AM Dana Example via Help Desk <\n"
        "help@example.com> wrote:\n\n> Please confirm.\n"
    )
    assert visible_text(reply) == "Done."


def test_bottom_post_drops_the_quote_above_the_answer() -> None:
    reply = (
        "On 03.06.2024 09:12, Dana Example wrote:\n"
        "> Could you send the serial number?\n\n"
        "It is SN-99812.\n\nKim\n"
    )
    assert visible_text(reply) == "It is SN-99812.\n\nKim"


def test_inline_answers_stay_with_their_questions() -> None:
    reply = (
        "Answers below.\n\n"
        "On Mon, 3 Jun 2024 at 09:12, Dana <dana@example.com> wrote:\n"
        "> Which model do you have?\n"
        "RX-200.\n\n"
        "> Is the light red or green?\n"
        "Red, blinking.\n\n"
        "> Dana\n"
    )
    ours = visible_text(reply)
    assert ours == (
        "Answers below.\n\n"
        "> Which model do you have?\nRX-200.\n\n"
        "> Is the light red or green?\nRed, blinking."
    )


def test_inline_answers_under_an_attribution_at_the_top() -> None:
    reply = (
        "On Mon, 3 Jun 2024 at 09:12, Dana <dana@example.com> wrote:\n"
        "> Which model?\nRX-200.\n> Which colour?\nRed.\n"
    )
    assert visible_text(reply) == "> Which model?\nRX-200.\n> Which colour?\nRed."


def test_a_quote_chosen_by_the_sender_without_attribution_is_kept() -> None:
    reply = "> the router reboots every night\n\nThat is on purpose, see the manual.\n"
    assert visible_text(reply) == reply.strip()


@pytest.mark.parametrize(
    ("language", "attribution"),
    [
        ("de", "Am 03.06.2024 um 09:12 schrieb Dana Example <dana@example.com>:"),
        ("de-gmail", "Dana Example <dana@example.com> schrieb am Mo., 3. Juni 2024, 09:12:"),
        ("fr", "Le lun. 3 juin 2024 à 09:12, Dana Example <dana@example.com> a écrit :"),
        ("es", "El lun, 3 jun 2024 a las 9:12, Dana Example (<dana@example.com>) escribió:"),
        ("nl", "Op ma 3 jun. 2024 om 09:12 schreef Dana Example <dana@example.com>:"),
        ("pt", "Em seg., 3 de jun. de 2024 às 09:12, Dana Example <dana@example.com> escreveu:"),
        ("it", "Il giorno lun 3 giu 2024 alle ore 09:12 Dana <dana@example.com> ha scritto:"),
        ("pl", "pon., 3 cze 2024 o 09:12 Dana Example <dana@example.com> napisał(a):"),
        ("sv", "mån 3 juni 2024 kl. 09:12 skrev Dana Example <dana@example.com>:"),
        ("da", "Den 3. jun. 2024 kl. 09.12 skrev Dana Example <dana@example.com>:"),
        ("ru", "пн, 3 июн. 2024 г. в 09:12, Dana Example <dana@example.com>:"),
        ("ja", "2024年6月3日(月) 9:12 Dana Example <dana@example.com>:"),
        ("zh", "在 2024年6月3日，上午9:12，Dana Example <dana@example.com> 写道："),
    ],
)
def test_attributions_in_many_languages(language: str, attribution: str) -> None:
    reply = f"Merci, c'est réglé.\n\n{attribution}\n\n> Bitte starten Sie den Router neu.\n"
    assert visible_text(reply) == "Merci, c'est réglé."


@pytest.mark.parametrize(
    "header",
    [
        "From: Dana Example <dana@example.com>\nSent: Monday, June 3, 2024 9:12 AM\n"
        "To: Kim <kim@example.org>\nSubject: RE: Router",
        "Von: Dana Example <dana@example.com>\nGesendet: Montag, 3. Juni 2024 09:12\n"
        "An: Kim <kim@example.org>\nBetreff: AW: Router",
        "De : Dana Example <dana@example.com>\nEnvoyé : lundi 3 juin 2024 09:12\n"
        "À : Kim <kim@example.org>\nObjet : RE: Routeur",
        "De: Dana Example <dana@example.com>\nEnviado: lunes, 3 de junio de 2024 9:12\n"
        "Para: Kim <kim@example.org>\nAsunto: RE: Router",
        "Van: Dana Example <dana@example.com>\nVerzonden: maandag 3 juni 2024 09:12\n"
        "Aan: Kim <kim@example.org>\nOnderwerp: RE: Router",
        "De: Dana Example <dana@example.com>\nEnviada em: segunda-feira, 3 de junho de 2024\n"
        "Para: Kim <kim@example.org>\nAssunto: RE: Roteador",
    ],
    ids=["en", "de", "fr", "es", "nl", "pt"],
)
def test_outlook_desktop_header_blocks(header: str) -> None:
    reply = (
        f"Works again.\n\n________________________________\n{header}\n\n"
        "Please restart the router.\n"
    )
    assert visible_text(reply) == "Works again."
    # The same block without Outlook's rule above it.
    assert visible_text(reply.replace("________________________________\n", "")) == "Works again."


def test_outlook_original_message_separator() -> None:
    reply = "Agreed.\n\n-----Original Message-----\nFrom: Dana\nSent: Monday\nTo: Kim\n\nOld.\n"
    assert visible_text(reply) == "Agreed."


@pytest.mark.parametrize(
    "separator",
    [
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
        "-------- Message transféré --------",
        "---------- Weitergeleitete Nachricht ----------",
    ],
)
def test_forward_with_a_comment_shows_the_comment(separator: str) -> None:
    reply = (
        f"FYI, see the customer's mail below.\n\n{separator}\nFrom: Kim <kim@example.org>\n"
        "Date: Mon, 3 Jun 2024 at 09:12\nSubject: Router\nTo: <help@example.com>\n\nIt is red.\n"
    )
    assert visible_text(reply) == "FYI, see the customer's mail below."


def test_forward_without_a_comment_shows_the_forwarded_mail() -> None:
    reply = (
        "---------- Forwarded message ---------\nFrom: Kim <kim@example.org>\n"
        "Date: Mon, 3 Jun 2024 at 09:12\nSubject: Router\nTo: <help@example.com>\n\n"
        "The router light is red since Monday.\n"
    )
    assert visible_text(reply) == "The router light is red since Monday."


# ---- signatures ------------------------------------------------------------------------------


def test_dash_dash_space_signature() -> None:
    reply = "Thanks, that helped.\n\n-- \nKim Example\nACME Ltd. | +49 30 1234567\n"
    assert visible_text(reply) == "Thanks, that helped."


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Envoyé de mon iPhone",
        "Von meinem iPhone gesendet",
        "Enviado desde mi iPad",
        "Enviado do meu iPhone",
        "Verzonden vanaf mijn iPhone",
        "Get Outlook for iOS",
        "Get Outlook for Android<https://aka.ms/ghei36>",
    ],
)
def test_device_footers(footer: str) -> None:
    attribution = "On 3 Jun 2024, at 09:12, Dana <dana@example.com> wrote:"
    reply = f"On my way.\n\n{footer}\n\n{attribution}\n\n> Hi\n"
    assert visible_text(reply) == "On my way."


def test_sign_off_is_part_of_the_message() -> None:
    reply = "It works.\n\nBest regards,\nKim\n"
    assert visible_text(reply) == "It works.\n\nBest regards,\nKim"


# ---- content that must never be lost --------------------------------------------------------


def test_markdown_rule_inside_the_message_keeps_what_follows() -> None:
    reply = "Step one done.\n\n---\n\nStep two: the light is still red.\n"
    assert visible_text(reply) == reply.strip()


def test_underscore_rules_between_newsletter_sections_keep_the_sections() -> None:
    sections = [f"Section {n}\n" + "Some news.\n" * 4 for n in range(4)]
    newsletter = "\n____________________\n".join(sections)
    assert visible_text(newsletter) == newsletter.strip()


def test_underscore_rule_above_a_list_footer() -> None:
    reply = "Use the API.\n\n_______________\nusers mailing list\nusers@lists.example.org\n"
    assert visible_text(reply) == "Use the API."


def test_sentence_that_starts_like_a_footer_is_kept() -> None:
    reply = "Here is another email\n\nSent from my desk, is much easier then my mobile phone."
    assert visible_text(reply) == reply


def test_sentence_ending_in_wrote_colon_followed_by_text_is_kept() -> None:
    reply = "Yesterday my colleague wrote:\nthe invoice is wrong.\nCan you check?\n"
    assert visible_text(reply) == reply.strip()


def test_dashes_inside_a_code_block_are_not_a_signature() -> None:
    reply = "Config:\n\n```\n--\nverbose = true\n```\n\nStill fails.\n"
    assert visible_text(reply) == reply.strip()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Sent from my iPhone\n", "Sent from my iPhone"),
        ("-- \nKim Example\n", "Kim Example"),
        ("   \n\t\n", ""),
        (
            "---------- Forwarded message ---------\nFrom: Kim <kim@example.org>\n"
            "Date: Mon, 3 Jun 2024\nSubject: Router\n\n> It is red.\n",
            "---------- Forwarded message ---------\nFrom: Kim <kim@example.org>\n"
            "Date: Mon, 3 Jun 2024\nSubject: Router\n\n> It is red.",
        ),
        ("Here is the log from 3 June:\n> error 1\n> error 2\n", "Here is the log from 3 June:"),
    ],
)
def test_never_empty_when_the_sender_may_have_written_it(body: str, expected: str) -> None:
    """With nothing recognisably new that is not a quote, the whole body shows."""
    assert visible_text(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "> only a quote\n> nothing else\n",
        "On Mon, 3 Jun 2024 at 09:12, Dana <dana@example.com> wrote:\n> Hi\n",
        "-----Original Message-----\nFrom: Dana\nSent: Monday\nTo: Kim\n\nOld.\n",
        f"On Mon, 3 Jun 2024 at 09:12, Support <help@example.com> wrote:\n{_quoted(NOTIFICATION)}",
        NOTIFICATION,
    ],
    ids=["quote", "attribution", "outlook", "our-notification-quoted", "our-notification"],
)
def test_a_reply_that_is_only_a_quote_shows_nothing(body: str) -> None:
    """Sent without a word typed: nothing is new (the full text keeps it all)."""
    assert visible_text(body) == ""


def test_a_forward_subject_shows_the_mail_below_a_header_block() -> None:
    body = "-----Original Message-----\nFrom: Dana\nSent: Monday\nTo: Kim\n\nThe invoice.\n"
    assert visible_text(body, forwarded=True) == "The invoice."


def test_windows_and_old_mac_line_endings() -> None:
    reply = "Fine now.\r\n\r\nOn Mon, 3 Jun 2024 at 09:12, Dana <d@example.com> wrote:\r\n> Hi\r\n"
    assert visible_text(reply) == "Fine now."
    assert visible_text(reply.replace("\r\n", "\r")) == "Fine now."


# ---- HTML ------------------------------------------------------------------------------------


def _both(html: str) -> str:
    return visible_text(html2text.html2text(html), html)


def test_gmail_html() -> None:
    html = (
        '<div dir="ltr">Works now, thanks!<div><br></div><div>Kim</div></div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Jun 3, 2024 at '
        "9:12 AM Dana &lt;dana@example.com&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">Please restart.</blockquote>'
        "</div>"
    )
    assert _both(html) == "Works now, thanks!\n\nKim"


def test_gmail_html_inline_answers() -> None:
    html = (
        "<div>Answers inline.</div>"
        '<div class="gmail_quote"><div class="gmail_attr">On Mon, Jun 3, 2024 Dana wrote:</div>'
        '<blockquote class="gmail_quote">Which model?</blockquote><div>RX-200.</div>'
        '<blockquote class="gmail_quote">Which colour?</blockquote><div>Red.</div></div>'
    )
    assert _both(html) == "Answers inline.\n> Which model?\nRX-200.\n> Which colour?\nRed."


def test_gmail_signature_block_is_dropped() -> None:
    html = (
        '<div dir="ltr">See attached.<br clear="all"><div><br></div>-- <br>'
        '<div dir="ltr" class="gmail_signature">Kim Example<br>ACME Ltd.</div></div>'
    )
    assert _both(html) == "See attached."


def test_outlook_web_html() -> None:
    html = (
        '<div style="font-family:Calibri">Approved.</div><div id="appendonsend"></div>'
        '<hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr">'
        "<b>From:</b> Dana<br><b>Sent:</b> Monday<br><b>To:</b> Kim<br><b>Subject:</b> Quote"
        "</div><div>Can you approve the quote?</div>"
    )
    assert _both(html) == "Approved."


def test_outlook_desktop_border_top_header() -> None:
    html = (
        '<div class="WordSection1"><p class="MsoNormal">Approved.</p>'
        '<p class="MsoNormal">&nbsp;</p><p class="MsoNormal">Kim</p>'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
        '<p class="MsoNormal"><b>From:</b> Dana &lt;dana@example.com&gt;<br><b>Sent:</b> '
        "Monday, June 3, 2024 9:12 AM<br><b>To:</b> Kim<br><b>Subject:</b> Quote</p></div>"
        '<p class="MsoNormal">Can you approve the quote?</p></div>'
    )
    assert _both(html) == "Approved.\n\nKim"


def test_border_top_block_without_a_header_is_content() -> None:
    html = (
        "<div>Totals below.</div>"
        '<div style="border-top:solid #000 1pt">Sum: 42 EUR</div><div>Kim</div>'
    )
    assert _both(html) == "Totals below.\nSum: 42 EUR\nKim"


def test_apple_mail_html() -> None:
    html = (
        '<html><body dir="auto">Thanks, received.<br><br><div dir="ltr">Kim</div>'
        '<div dir="ltr"><br><blockquote type="cite">On 3. Jun 2024, at 09:12, Dana '
        "&lt;dana@example.com&gt; wrote:<br><br></blockquote></div>"
        '<blockquote type="cite"><div dir="ltr">Here is your invoice.</div></blockquote>'
        "</body></html>"
    )
    assert _both(html) == "Thanks, received.\n\nKim"


def test_thunderbird_html() -> None:
    html = (
        "<html><body><p>Looks good.</p>"
        '<div class="moz-cite-prefix">On 03.06.24 09:12, Dana wrote:<br></div>'
        '<blockquote type="cite">Please check the draft.</blockquote></body></html>'
    )
    assert _both(html) == "Looks good."


def test_yahoo_html() -> None:
    html = (
        '<div class="ydp1"><div>Sure, go ahead.</div></div><div id="yahoo_quoted_123" '
        'class="yahoo_quoted"><div>On Monday, June 3, 2024, 09:12:00 AM GMT+2, Dana '
        "&lt;dana@example.com&gt; wrote:</div><div>May we schedule the visit?</div></div>"
    )
    assert _both(html) == "Sure, go ahead."


def test_html_that_is_all_quote_shows_nothing() -> None:
    html = "<blockquote type='cite'>The light is red.</blockquote>"
    assert _both(html) == ""


def test_html_forward_without_comment_shows_the_forwarded_mail() -> None:
    html = (
        "<div>Begin forwarded message:</div><blockquote type='cite'><div>From: Kim</div>"
        "<div>The light is red.</div></blockquote>"
    )
    assert "The light is red." in _both(html)


def test_html_scripts_styles_and_entities() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>x</title></head><body>"
        "<p>Price &lt; 10&nbsp;&euro; &amp; ok</p><script>alert(1)</script></body></html>"
    )
    assert _both(html) == "Price < 10 € & ok"


# ---- speed -----------------------------------------------------------------------------------
# This process's CPU time, not the wall clock: on a loaded shared machine the wall clock
# also counts the time spent waiting for a core.


def test_a_long_reply_with_long_lines_stays_fast() -> None:
    body = ("word " * 2000 + "\n") * 50 + "On Mon wrote:\n" + "> " + "x" * 100_000 + "\n"
    started = time.process_time()
    assert visible_text(body).startswith("word word")
    assert time.process_time() - started < 1.0  # a guard against backtracking, not a benchmark


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Hi\n" + ("On " + "1 " * 190 + "x:\n") * 3000, None),
        ("Hi\n" + ("2020-01-01 " + "@" * 380 + "x:\n") * 3000, None),
        ("x", "<span><blockquote>" + "<div>" * 30_000 + "</span>" * 30_000),
        ("x", '<div style="border-top:solid 1px">a<br>' * 30_000),
    ],
    ids=["digits-after-opener", "address-run", "stray-end-tags", "nested-border-blocks"],
)
def test_hostile_input_stays_linear(text: str, html: str | None) -> None:
    started = time.process_time()
    assert visible_text(text, html)
    assert time.process_time() - started < 1.0  # quadratic code takes tens of seconds here


def test_many_candidate_header_lines_stay_fast() -> None:
    body = "Hi\n" + "From: a\nTo: b\n" * 20_000 + "On 3 Jun 2024 x <a@b.c>\n" * 5_000
    started = time.process_time()
    assert visible_text(body)
    assert time.process_time() - started < 1.0
