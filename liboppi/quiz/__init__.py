"""Quizzes: the quiz file format, question types, grading, draws and GIFT import/export.

Pure domain code: no Flask, no database. The services layer calls
``format.parse_quiz_file``, ``order.draw_questions``/``order.option_order``,
``registry.get_question_type(...).public_view``, ``grading.grade``/``grading.grade_attempt``
and ``gift.parse_gift``/``gift.export_gift``.
"""
