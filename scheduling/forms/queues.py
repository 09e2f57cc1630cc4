"""The note staff write when they take an item off a call queue."""

from __future__ import annotations

from django import forms

NOTE_NEEDED = "Write a short note saying what happened."


class QueueNoteForm(forms.Form):
    note = forms.CharField(max_length=300, error_messages={"required": NOTE_NEEDED})
