"""The ids of the buttons and forms the cards draw, which the action listeners register.

Here, not with the listeners, because the cards draw them: a module of `nmbot.cards`
imports nothing from `nmbot.slack`.
"""
SUGGESTION = "nm_suggestion"  # "did you mean" button
OPEN_CARD = "nm_open_card"  # "full card" button of a log summary
SHARE_CARD = "nm_share_card"
OPEN_DOCS = "nm_open_docs"
VOTE_UP = "nm_vote_up"
VOTE_DOWN = "nm_vote_down"
WHY = "nm_why"
FEEDBACK_MODAL = "nm_feedback"  # callback_id of the thumbs-down form
COMMENT_BLOCK, COMMENT_INPUT = "nm_comment", "nm_comment_text"
