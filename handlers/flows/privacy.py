"""「データを消して」: confirm, then delete (storage/privacy.py), then confirm it is done.

Works from any state — mid-booking, with an open or claimed case. The confirmation button
is only honoured while the question is pending (30 minutes), so an old button tapped by
mistake asks again instead of deleting.
"""

from __future__ import annotations

from handlers import registry
from handlers.content import load_pack
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.turn import Turn
from storage import conversation, privacy

FLOW, CONFIRM = "delete", "confirm"


def confirmation(turn: Turn) -> list[Reply]:
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    conversation.enter(state, FLOW, CONFIRM, turn.now)
    return [Reply(load_pack().text("deletion_confirm"), [
        QuickReply(label="はい、削除する", data=encode("delete", "yes"), text="はい、削除します"),
        QuickReply(label="やめる", data=encode("delete", "no"), text="やめます"),
    ])]


@registry.intent("delete_data")
def delete_request(turn: Turn) -> list[Reply]:
    return confirmation(turn)


@registry.flow(FLOW)
def pending(turn: Turn) -> list[Reply] | None:
    """A typed message while the question is open: route it as usual (the buttons decide)."""
    return None


@registry.postback("delete")
def answer(turn: Turn) -> list[Reply]:
    pack = load_pack()
    choice = turn.postback.arg(0)
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if choice == "no":
        if state.flow == FLOW:
            conversation.clear(state, turn.now)
        return [Reply(pack.text("deletion_cancelled"))]
    if choice != "yes" or state.flow != FLOW:
        return confirmation(turn)
    privacy.delete_resident_data(turn.session, turn.resident, turn.now)
    # The id stays until this confirmation is delivered; scheduler/jobs/privacy.py erases it.
    return [Reply(pack.text("deletion_done"))]
