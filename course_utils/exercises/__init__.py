"""Exercises that check themselves: the feedback type shared by every notebook's checks.

Each notebook's exercises have their checks in ``course_utils.exercises.<topic>`` (the topic names
of ``views``, plus ``training_tricks`` for notebook 05). In a notebook an exercise is three cells:

1. the student's cell (tagged ``exercise``), which starts as ``answer = ...``;
2. the check, ``check_something(answer)``, which shows a :class:`Feedback`: "not attempted yet"
   while the answer is still ``...`` (so the notebook runs top to bottom untouched), otherwise
   correct, or what is wrong with a hint;
3. the worked solution (tagged ``solution``, source collapsed), which ends with
   ``assert check_something(solution).correct`` so that running the notebook keeps it right.
   The student edition (``make student``) leaves these cells out.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Feedback", "attempted", "correct", "incorrect", "not_attempted"]

_ICONS = {"correct": "✅ Correct", "incorrect": "❌ Not yet", "not attempted": "✏️ Not attempted yet"}


class Feedback(NamedTuple):
    """The verdict of a check on a student's answer.

    Attributes
    ----------
    status : {"correct", "incorrect", "not attempted"}
    message : str
        What is right or wrong, and a hint for the next step.
    """

    status: str
    message: str

    @property
    def correct(self) -> bool:
        """True when the answer is right."""
        return self.status == "correct"

    def __str__(self) -> str:
        return f"{_ICONS[self.status]}: {self.message}"

    def _repr_markdown_(self) -> str:
        return f"**{_ICONS[self.status]}**: {self.message}"

    def __repr__(self) -> str:
        return str(self)


def correct(message: str) -> Feedback:
    """Feedback for a right answer."""
    return Feedback("correct", message)


def incorrect(message: str) -> Feedback:
    """Feedback for a wrong answer: say what is wrong and give a hint."""
    return Feedback("incorrect", message)


def not_attempted(hint: str) -> Feedback:
    """Feedback for an answer cell that has not been filled in yet."""
    return Feedback("not attempted", hint)


def attempted(answer: Any) -> bool:
    """False while the student's cell still holds the placeholder ``...`` (or None)."""
    return answer is not ... and answer is not None
