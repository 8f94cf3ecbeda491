"""The main paths: welcome, questions, worries, a person, consent, other languages."""

from __future__ import annotations

from sqlalchemy import select

from bot.worker import Worker
from storage.models import Case, Message, Resident
from tests.conversation.conftest import joined


def test_follow_welcome_says_what_we_do_who_reads_how_long_and_how_to_delete(chat, pack):
    texts = chat.follow()
    text = joined(texts)
    assert "どんなことでもご相談ください" in text
    assert "お名前を書かなくても" in text  # anonymous
    assert "職員が読むのは" in text  # who sees what they write, and when
    assert "180日" in text and "データを消したい" in text
    labels = [a["label"] for a in chat.buttons()]
    assert labels == ["相談したい", "よくある質問", "予約する", "人と話したい"]


def test_menu_buttons_lead_to_the_main_paths(chat, pack):
    assert chat.tap("menu:consult") == [pack.text("consult_prompt")]
    chat.tap("menu:faq")
    assert all(d.startswith("faq:") for d in chat.button_data())
    chat.tap(chat.button_data()[0])
    assert chat.last_calls  # an answer from the pack


# -- questions --------------------------------------------------------------------------


def test_a_clear_question_gets_the_pack_answer(chat, pack):
    texts = chat.say("窓口の受付時間は？")
    assert texts == [pack.faq_entry("hours").answer]


def test_an_unclear_question_offers_candidates_then_answers_the_chosen_one(chat, pack):
    texts = chat.say("介護について教えてください")
    assert texts == [pack.text("faq_candidates_intro")]
    data = chat.button_data()
    assert 2 <= len(data) <= 4 and data[-1] == "faq:none"
    chosen = data[0].split(":", 1)[1]
    assert chat.tap(data[0]) == [pack.faq_entry(chosen).answer]


def test_a_question_the_faq_does_not_answer_offers_a_person_and_invents_nothing(chat, pack):
    texts = chat.say("宇宙旅行の申し込み方法はどこで聞けますか？")
    assert texts == [pack.text("faq_not_found")]
    assert chat.button_data() == ["handoff:faq"]
    chat.tap("handoff:faq")
    [case] = chat.cases()
    assert case.opened_reason == "human"


# -- worries ----------------------------------------------------------------------------


def test_a_worry_with_an_address_names_the_district_center(chat, pack):
    texts = chat.say("桜山3丁目に住んでいます。母の介護のことで相談したいです")
    text = joined(texts)
    assert "介護のことでお困りなのですね" in texts[0]
    assert "逗子市東部地域包括支援センター" in text and "046-876-6299" in text
    assert [a["label"] for a in chat.buttons()] == ["予約する", "人と話したい"]
    assert chat.cases() == []  # a worry is routed; no case unless asked or needed


def test_a_worry_without_an_address_asks_the_town_once_then_routes(chat):
    texts = chat.say("母の介護が心配です")
    assert "町名を教えていただけますか" in texts[-1]
    assert chat.state().flow == "consult"
    text = joined(chat.say("小坪です"))
    assert "逗子市西部地域包括支援センター" in text and "046-876-5451" in text
    assert chat.state().flow is None
    # remembered: the next worry is routed without asking again
    text = joined(chat.say("父が最近物忘れがひどくて心配です"))
    assert "西部地域包括支援センター" in text and "町名" not in text


def test_an_unknown_town_gets_all_three_centers(chat):
    chat.say("母の介護が心配です")
    text = joined(chat.say("緑ヶ丘です"))
    assert "「緑ヶ丘」という町名が見つかりませんでした" in text
    for phone in ("046-876-6299", "046-872-2480", "046-876-5451"):
        assert phone in text
    assert chat.state().flow is None  # asked once only


def test_the_town_question_survives_a_restart(chat, svc, clock):
    chat.say("母の介護が心配です")
    chat.worker = Worker(svc.factory, svc.channels, clock=clock, worker_id="restarted")
    assert "中部地域包括支援センター" in joined(chat.say("逗子5丁目"))


def test_the_town_question_lapses_after_a_while(chat, clock):
    chat.say("母の介護が心配です")
    clock.advance(minutes=31)
    assert chat.state().flow == "consult"
    text = joined(chat.say("沼間です"))
    # no longer an answer to the lapsed question (the worry is not replayed), but still
    # understood as where the resident lives
    assert "介護" not in text and "沼間にお住まいなのですね" in text


def test_a_compound_situation_gets_the_coordinator_and_a_case(chat):
    texts = chat.say("失業して家賃が払えず、母の介護もあってもう限界です")
    text = joined(texts)
    assert "相談支援包括化推進員" in text
    [case] = chat.cases()
    assert (case.opened_reason, case.priority) == ("compound", "high")
    assert {"employment", "living_hardship", "elderly_care"} <= set(case.topics)
    assert case.consent == "asked"


def test_a_report_about_someone_else_is_thanked_without_promises(chat, pack):
    texts = chat.say("近所の一人暮らしのおばあさんを最近見かけなくて心配です")
    # someone not seen lately may be in danger: the reader may ask that first (the check band);
    # once answered, the report is taken as written
    if pack.text("check_question") in joined(texts):
        texts = chat.say("そうではない")[1:]  # after the thanks for answering
    assert texts[0] == pack.text("third_party_thanks")
    assert "046-876-6299" in joined(texts)  # the window, with its number
    assert texts[-1] == pack.text("third_party_ask")  # where the person lives, what is known
    assert pack.text("consent_explanation") not in texts  # consent is the person's to give
    [case] = chat.cases()
    assert case.about == "other" and case.opened_reason == "third_party"
    texts = chat.say("小坪の方です。先週から新聞がたまっています")
    if pack.text("check_question") in joined(texts):  # newspapers piling up: a warning sign
        texts = chat.say("そうではない")[1:]
    assert texts[0] == pack.text("third_party_noted")
    assert "西部地域包括支援センター" in joined(texts)
    with chat.svc.factory() as session:
        assert session.scalars(select(Resident)).one().district is None  # not the reporter's


# -- a person ---------------------------------------------------------------------------


def test_asking_for_a_person_opens_a_case_and_says_who_reads_it(chat, pack):
    texts = chat.say("人と話したい")
    assert texts[0] == pack.text("handoff_received_generic")
    [case] = chat.cases()
    assert (case.opened_reason, case.priority, case.status) == ("human", "normal", "new")
    with chat.svc.factory() as session:
        assert session.scalars(select(Message.case_id).where(Message.direction == "in")
                               ).one() == case.id


def test_with_a_known_district_the_handoff_names_the_center(chat):
    chat.say("桜山3丁目に住んでいます。母の介護のことで相談したいです")
    texts = chat.say("人と話したい")
    assert "東部地域包括支援センターの職員におつなぎしました" in texts[0]
    assert chat.cases()[0].window_id == "east_center"


def test_words_the_bot_cannot_place_get_the_consult_path_not_a_dead_end(chat, pack):
    texts = chat.say("ふがふが")
    assert texts == [pack.text("consult_ack_unplaced"), pack.text("ask_town")]
    assert "読み取れ" not in joined(texts)
    assert chat.button_data() == ["consult:skip", "handoff:consult"]  # a person, one tap away
    assert chat.cases() == []


def test_a_district_the_bot_knows_gets_its_centre_for_unplaced_words(chat, pack):
    chat.say("沼間に住んでいます")
    texts = chat.say("ふがふが")
    assert texts[0] == pack.text("consult_ack_unplaced")
    assert "東部地域包括支援センター" in texts[1] and "046-876-6299" in texts[1]
    assert "handoff:consult" in chat.button_data()


def test_not_understood_twice_in_a_row_reaches_a_person(chat, pack):
    assert chat.say("ふがふが")[0] == pack.text("consult_ack_unplaced")
    assert chat.cases() == []
    texts = chat.say("ほげほげ")
    assert texts[0] == pack.text("handoff_received_generic")
    [case] = chat.cases()
    assert case.opened_reason == "not_understood"
    assert chat.state().not_understood == 0


def test_an_understood_message_resets_the_count(chat, pack):
    chat.say("ふがふが")
    chat.say("窓口の受付時間は？")
    assert chat.say("ほげほげ")[0] == pack.text("consult_ack_unplaced")
    assert chat.cases() == []


def test_while_a_person_has_the_case_the_bot_is_quiet_and_files_the_message(chat):
    chat.say("人と話したい")
    with chat.svc.factory() as session, session.begin():
        session.scalars(select(Case)).one().status = "waiting"
    assert chat.say("母のことで、昨日の続きです") == []
    assert chat.sticker() == []
    [case] = chat.cases()
    assert case.status == "claimed"  # the resident answered: back with its owner
    with chat.svc.factory() as session:
        filed = session.scalars(select(Message.case_id).where(Message.direction == "in")).all()
        assert filed == [case.id, case.id, case.id]


# -- consent ----------------------------------------------------------------------------


def test_consent_yes_is_stored_on_the_case(chat, pack):
    chat.say("人と話したい")
    [case] = chat.cases()
    assert case.consent == "asked"
    assert chat.tap(f"consent:yes:{case.id}") == [pack.text("consent_yes_thanks")]
    assert chat.cases()[0].consent == "granted"


def test_consent_no_is_stored_and_not_asked_again(chat, pack):
    chat.say("人と話したい")
    [case] = chat.cases()
    assert chat.tap(f"consent:no:{case.id}") == [pack.text("consent_no_ok")]
    assert chat.cases()[0].consent == "declined"
    texts = chat.say("失業して家賃が払えず、母の介護もあってもう限界です")  # joins the case
    assert pack.text("consent_explanation") not in texts
    assert chat.cases()[0].consent == "declined"


def test_consent_for_someone_elses_case_changes_nothing(chat, client, worker, fake_line, svc):
    from tests.conversation.conftest import Chat

    other = Chat(client, worker, fake_line, svc, "U00000000000000000000000000c0a02")
    other.say("人と話したい")
    [case] = chat.cases()
    chat.tap(f"consent:yes:{case.id}")
    assert chat.cases()[0].consent == "asked"


# -- anything else ----------------------------------------------------------------------


def test_only_emoji_gets_a_gentle_reply(chat, pack):
    assert chat.say("😊😊") == [pack.text("emoji_only")]
    assert chat.say("。。。") == [pack.text("emoji_only")]
    assert chat.cases() == []


def test_a_sticker_gets_a_request_to_write(chat, pack):
    assert chat.sticker() == [pack.text("please_write_text")]


def test_an_english_message_is_answered_in_english(chat):
    texts = chat.say("Hello, I need help with my rent")
    if "No, not now" in [b["label"] for b in chat.buttons()]:
        # The risk reader was unsure: the safety question comes first, in English too,
        # and after "No, not now" the original message gets its answer.
        assert "in danger right now" in joined(texts)
        texts = chat.say("No, not now")
    text = joined(texts)
    assert "housing security benefit" in text and "Which part of Zushi" in text
    assert "Please write what you need" not in text  # not the old canned line
    with chat.svc.factory() as session:
        assert session.scalars(select(Resident.language)).one() == "en"


def test_another_language_gets_easy_japanese_with_the_number_and_a_person(chat):
    [text] = chat.say("Xin chào, tôi cần giúp đỡ")
    assert "やさしい にほんご" in text and "046-876-6299" in text
    assert [a["label"] for a in chat.buttons()] == ["ひとと はなしたい"]
    with chat.svc.factory() as session:
        assert session.scalars(select(Resident.language)).one() == "other"
    texts = chat.say("Xin chào, tôi cần giúp đỡ")  # the same again: a person, not a loop
    assert "やさしい にほんご" not in joined(texts)
    [case] = chat.cases()
    assert case.opened_reason == "human"


def test_an_unknown_button_is_answered_politely(chat, pack):
    assert chat.tap("nothing:here") == [pack.text("button_expired")]


def test_a_window_without_its_own_number_is_not_shown_with_anothers_as_its_own(chat):
    text = joined(chat.say("最近ひとりで寂しくて、誰とも話していません。小坪に住んでいます"))
    assert "社会福祉協議会（社協）（046-876-5451 からおつなぎします）" in text
    assert "社会福祉協議会（社協）　046-876-5451" not in text
