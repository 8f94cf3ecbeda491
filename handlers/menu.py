"""The main menu: the quick replies offered with a welcome, a greeting, and whenever the bot
could not help (the answers are handlers.flows.welcome.menu)."""

from __future__ import annotations

from handlers.postback import encode
from handlers.replies import QuickReply

# Booking is a text quick reply on purpose: the booking flow reads the message's analysis
# (dates like 来週火曜), which a postback would not carry.
MAIN_MENU = [
    QuickReply(label="相談したい", data=encode("menu", "consult"), text="相談したい"),
    QuickReply(label="よくある質問", data=encode("menu", "faq"), text="よくある質問"),
    QuickReply(label="予約する", text="予約したい"),
    QuickReply(label="人と話したい", data=encode("menu", "human"), text="人と話したい"),
]
